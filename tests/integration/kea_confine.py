#!/usr/bin/env python3
"""Prepares a test's Kea configuration for a Kea that restricts paths.

Kea 2.6.3 (Debian 13) and Kea 3.0 (CVE-2025-32801) load hook libraries only from
their hooks directory and write lease files, log files and control sockets only
in their own folders, unless environment variables name others: KEA_HOOKS_PATH,
KEA_DHCP_DATA_DIR, KEA_LOG_FILE_DIR, KEA_CONTROL_SOCKET_DIR. A test's Kea keeps
all of these in its work folder, and loads the hook from the build tree next to
Kea's own hooks (lease_cmds, ha). Kea 2.6.3 also wants a control socket's folder
to have mode 0750 exactly.

This prints, one per line, the NAME=VALUE assignments that let Kea start with
CONFIG as it is: each variable names the one folder the configuration uses for
that kind of file. Hook libraries from more than one folder (the built hook and
Kea's own) are linked into --hooks-dir and CONFIG is rewritten to load them from
there, and a control socket in a folder of another mode is moved into SOCKETS (0750,
beside CONFIG) with a link from its old path (only then is CONFIG changed). Libraries already in Kea's hooks directory
(--default-hooks) alone need nothing.

usage: kea_confine.py CONFIG --hooks-dir DIR --default-hooks DIR
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from adapt_kea_config import strip_comments  # noqa: E402

FILE_OUTPUTS = ("stdout", "stderr", "syslog")


def one_dir(kind, paths):
    """The single parent folder of PATHS, or None; fails on several."""
    dirs = sorted({os.path.dirname(p) for p in paths if os.path.isabs(p)})
    if len(dirs) > 1:
        sys.exit(f"kea_confine: {kind} in several folders: {', '.join(dirs)}")
    return dirs[0] if dirs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("--hooks-dir", required=True)
    ap.add_argument("--default-hooks", required=True)
    args = ap.parse_args()
    # Bytes that are not UTF-8 (a test's hostile values) pass through unchanged.
    with open(args.config, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    conf = json.loads(strip_comments(text))
    env = {}
    logs, leases, sockets = [], [], []
    changed = False
    for server in conf.values():
        if not isinstance(server, dict):
            continue
        libs = server.get("hooks-libraries", [])
        dirs = {os.path.dirname(lib["library"]) for lib in libs}
        if dirs and dirs != {args.default_hooks.rstrip("/")}:
            if len(dirs) == 1:
                env["KEA_HOOKS_PATH"] = dirs.pop()
            else:
                os.makedirs(args.hooks_dir, exist_ok=True)
                for lib in libs:
                    link = os.path.join(args.hooks_dir, os.path.basename(lib["library"]))
                    if not os.path.lexists(link):
                        os.symlink(lib["library"], link)
                    lib["library"] = link
                env["KEA_HOOKS_PATH"] = args.hooks_dir
                changed = True
        for logger in server.get("loggers", []):
            for out in logger.get("output_options", []):
                o = out.get("output", "stdout")
                if not o.startswith(FILE_OUTPUTS):
                    logs.append(o)
        lease_db = server.get("lease-database", {})
        if lease_db.get("type") == "memfile" and "name" in lease_db:
            leases.append(lease_db["name"])
        socks = [server.get("control-socket", {})]
        cs = server.get("control-sockets", {})
        socks += list(cs.values()) if isinstance(cs, dict) else cs
        for sock in socks:
            if sock.get("socket-type", "unix") != "unix" or "socket-name" not in sock:
                continue
            # Kea wants the socket's folder with mode 0750 exactly: a test's work folder
            # is 0755 (nginx and tftpd-hpa pass through it). The socket moves into
            # SOCKETS (0750) and its old path becomes a link to it, for the test's clients.
            name = sock["socket-name"]
            folder = os.path.dirname(name)
            if os.path.isdir(folder) and os.stat(folder).st_mode & 0o7777 != 0o750:
                sockets_dir = os.path.join(os.path.dirname(os.path.abspath(args.config)), "sockets")
                os.makedirs(sockets_dir, exist_ok=True)
                os.chmod(sockets_dir, 0o750)
                moved = os.path.join(sockets_dir, os.path.basename(name))
                if os.path.islink(name) or not os.path.exists(name):
                    if os.path.islink(name):
                        os.unlink(name)
                    os.symlink(moved, name)
                sock["socket-name"] = moved
                changed = True
            sockets.append(sock["socket-name"])
    for name, kind, paths in (("KEA_LOG_FILE_DIR", "log files", logs),
                              ("KEA_DHCP_DATA_DIR", "lease files", leases),
                              ("KEA_CONTROL_SOCKET_DIR", "control sockets", sockets)):
        d = one_dir(kind, paths)
        if d:
            env[name] = d
    if changed:
        # Kea's JSON parser takes \u00XX escapes only ("Unsupported unicode escape" for
        # \u2025): other characters are written as they are, in UTF-8.
        with open(args.config, "w", encoding="utf-8", errors="surrogateescape") as f:
            json.dump(conf, f, indent=2, ensure_ascii=False)
    for name, value in sorted(env.items()):
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
