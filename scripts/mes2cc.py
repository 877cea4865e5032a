#!/usr/bin/env python3
"""Compiles a Kea message catalogue (.mes) into C++ sources.

Debian's kea-dev ships no kea-msg-compiler; this does the same job for our one
catalogue: `$NAMESPACE a::b`, then `% ID text with %1 %2` lines, each followed by
its description. Usage: mes2cc.py input.mes output-dir
Writes <base>.h and <base>.cc; fails on a duplicate or malformed ID.
"""
import os
import re
import sys


def parse(path):
    namespace = None
    messages = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("$NAMESPACE"):
                namespace = line.split(None, 1)[1].strip()
            elif line.startswith("%"):
                parts = line[1:].strip().split(None, 1)
                if not parts or not re.fullmatch(r"[A-Z][A-Z0-9_]+", parts[0]):
                    sys.exit(f"{path}:{lineno}: malformed message line")
                ident = parts[0]
                if ident in seen:
                    sys.exit(f"{path}:{lineno}: duplicate message {ident}")
                seen.add(ident)
                messages.append((ident, parts[1] if len(parts) > 1 else ""))
    if not namespace:
        sys.exit(f"{path}: no $NAMESPACE")
    return namespace, messages


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    base = os.path.splitext(os.path.basename(src))[0]
    namespace, messages = parse(src)
    ns = namespace.split("::")
    guard = base.upper() + "_H"
    opens = "\n".join(f"namespace {n} {{" for n in ns)
    closes = "\n".join("}" for _ in ns)
    header = [f"// Generated from {os.path.basename(src)} by scripts/mes2cc.py. Do not edit.",
              f"#ifndef {guard}", f"#define {guard}", "", "#include <log/message_types.h>", "",
              opens, ""]
    header += [f"extern const isc::log::MessageID {i};" for i, _ in messages]
    header += ["", closes, "", f"#endif // {guard}", ""]
    body = [f"// Generated from {os.path.basename(src)} by scripts/mes2cc.py. Do not edit.",
            "", "#include <cstddef>", "#include <log/message_types.h>",
            "#include <log/message_initializer.h>", "", opens, ""]
    body += [f"extern const isc::log::MessageID {i} = {c_string(i)};" for i, _ in messages]
    body += ["", closes, "", "namespace {", "", "const char* values[] = {"]
    for i, text in messages:
        body.append(f"    {c_string(i)}, {c_string(text)},")
    body += ["    NULL", "};", "", "const isc::log::MessageInitializer initializer(values);", "",
             "} // Anonymous namespace", ""]
    os.makedirs(outdir, exist_ok=True)
    for name, lines in ((base + ".h", header), (base + ".cc", body)):
        path = os.path.join(outdir, name)
        text = "\n".join(lines)
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)


if __name__ == "__main__":
    main()
