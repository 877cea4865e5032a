#!/usr/bin/env python3
"""Checks the hook's message catalogue against the sources.

Every message ID of hook/phoneprov_messages.mes must be logged somewhere in hook/,
and every ID logged in hook/ (LOG_INFO/WARN/ERROR/DEBUG/FATAL, PHONEPROV_TRACE) must be
in the catalogue. The compiler already refuses an unknown ID; this also finds IDs no
code logs any more, and IDs that exist only in one build configuration.

usage: check_messages.py [SOURCE_DIR]   (exit 1 and a list of problems on failure)
"""
import os
import re
import sys

LOG_CALL = re.compile(r"\b(?:LOG_(?:INFO|WARN|ERROR|DEBUG|FATAL)|PHONEPROV_TRACE)\s*\(")
MESSAGE_ID = re.compile(r"\bPHONEPROV_[A-Z0-9_]+\b")


def catalogue_ids(path):
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("%"):
                ids.append(line[1:].split(None, 1)[0])
    return ids


def call_arguments(text, start):
    """The text between the '(' that ends at start-1 and its matching ')'."""
    depth = 1
    i = start
    while i < len(text) and depth:
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
        i += 1
    return text[start:i - 1]


def logged_ids(folder):
    used = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".cc", ".h")):
            continue
        path = os.path.join(folder, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        # The macro's own definition is not a use.
        text = re.sub(r"#define[^\n]*(\\\n[^\n]*)*", "", text)
        for m in LOG_CALL.finditer(text):
            for ident in MESSAGE_ID.findall(call_arguments(text, m.end())):
                line = text.count("\n", 0, m.start()) + 1
                used.setdefault(ident, f"{name}:{line}")
    return used


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    mes = os.path.join(root, "hook", "phoneprov_messages.mes")
    ids = catalogue_ids(mes)
    used = logged_ids(os.path.join(root, "hook"))
    problems = []
    for ident in ids:
        if ident not in used:
            problems.append(f"{ident} is in phoneprov_messages.mes but no source logs it")
    for ident, where in sorted(used.items()):
        if ident not in ids:
            problems.append(f"{where}: {ident} is logged but not in phoneprov_messages.mes")
    for p in problems:
        print(p)
    print(f"{len(ids)} messages in the catalogue, {len(used)} logged, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
