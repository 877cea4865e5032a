#!/usr/bin/env python3
"""Adapts an example Kea configuration from kea-config/ to a test run.

The examples name installed paths (the hook in Kea's hooks folder, the output in
/var/lib/kea-phoneprov/www, ports 8080 and 69). A test runs them from the build
tree in a temp folder: this rewrites exactly those things and nothing else, so
that what is tested is the example itself.

Kea reads comments (#, // and /* */) in its configuration files; so does this
script. The result is plain JSON without them.

A Dhcp4 configuration: the hook's library, output-dir, profiles-dir and base-url
port; key-file in --work (a site key written there, 0600, as the package's
postinst writes /var/lib/kea-phoneprov/site.key; --key-file names another); state-db in --work;
lease file, control socket, database access; loggers into --work.

A Control-agent configuration (kea-ctrl-agent): its HTTP address (127.0.0.1) and
port (--agent-port), the servers' control sockets (--ctrl-socket for dhcp4), the
folder of its authentication files (--work: the test writes them), its loggers
into --work.

--loopback moves a Dhcp4 example written for a real network onto loopback, where a
test's simulated relay (giaddr 127.0.0.1) reaches it: interface lo, UDP sockets;
the one subnet becomes 127.0.0.0/8 and every address inside it (pools,
reservations, routers, option data, user-context) keeps its last three bytes
behind 127 (10.20.0.150 becomes 127.20.0.150); the hook's base-url and
tftp-server point at 127.0.0.1 (base-url with --http-port, or --tftp-port for a
tftp:// URL). An example with no subnet or several is refused.

usage: adapt_kea_config.py IN OUT --work DIR [--out DIR --hook SO] [--profiles DIR]
                           [--http-port N] [--tftp-port N] [--interface IF] [--loopback]
                           [--ctrl-socket PATH] [--agent-port N]
                           [--pg-host H] [--pg-port N] [--pg-name DB] [--pg-user U]
                           [--pg-password P]
"""
import argparse
import ipaddress
import json
import os
import re
import sys


def strip_comments(text):
    """Blanks #, // and /* */ comments outside strings (keeps line breaks)."""
    out = []
    i, n = 0, len(text)
    state = "code"
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if state == "code":
            if c == '"':
                state = "string"
                out.append(c)
            elif c == "#" or (c == "/" and nxt == "/"):
                state = "line"
                out.append(" ")
            elif c == "/" and nxt == "*":
                state = "block"
                out.append("  ")
                i += 1
            else:
                out.append(c)
        elif state == "string":
            out.append(c)
            if c == "\\" and nxt:
                out.append(nxt)
                i += 1
            elif c == '"':
                state = "code"
        elif state == "line":
            if c == "\n":
                state = "code"
                out.append(c)
            else:
                out.append(" ")
        else:  # block
            if c == "*" and nxt == "/":
                out.append("  ")
                i += 1
                state = "code"
            else:
                out.append("\n" if c == "\n" else " ")
        i += 1
    return "".join(out)


def fail(msg):
    sys.exit(f"adapt_kea_config.py: {msg}")


def subnets_of(d4):
    found = list(d4.get("subnet4", []))
    for net in d4.get("shared-networks", []):
        found.extend(net.get("subnet4", []))
    return found


ADDR = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d{1,3}){3})(/\d{1,2})?(?![\d.])")


def to_loopback(d4):
    """Moves the example's one subnet and the addresses in it onto 127.0.0.0/8."""
    subnets = subnets_of(d4)
    if len(subnets) != 1:
        fail(f"--loopback needs exactly one subnet, the example has {len(subnets)}")
    net = ipaddress.ip_network(subnets[0]["subnet"], strict=False)
    if net.prefixlen < 8:
        fail(f"--loopback: subnet {net} is wider than a /8")

    def move(match):
        addr, plen = match.group(1), match.group(2)
        try:
            a = ipaddress.ip_address(addr)
        except ValueError:
            return match.group(0)
        if plen:
            if ipaddress.ip_network(addr + plen, strict=False) == net:
                return "127.0.0.0/8"
            return match.group(0)
        if a not in net:
            return match.group(0)
        moved = ipaddress.ip_address((127 << 24) | (int(a) & 0x00FFFFFF))
        return str(moved)

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return ADDR.sub(move, node)
        return node

    hooks = d4.pop("hooks-libraries", None)
    d4 = walk(d4)
    if hooks is not None:
        d4["hooks-libraries"] = hooks
    for s in subnets_of(d4):
        for pool in s.get("pools", []):
            if "127.0.0.1" in pool.get("pool", "").replace(" ", "").split("-"):
                fail("--loopback: a pool would hold 127.0.0.1 (the test's relay)")
    ic = d4.setdefault("interfaces-config", {})
    ic["interfaces"] = ["lo"]
    ic["dhcp-socket-type"] = "udp"
    return d4


def adapt_hook(lib, args):
    lib["library"] = args.hook
    p = lib.setdefault("parameters", {})
    p["output-dir"] = args.out
    p["key-file"] = args.key_file or f"{args.work}/site.key"
    if not args.key_file and not os.path.exists(p["key-file"]):
        # What `phoneprov keygen` and the package write: 32 random bytes, 0600.
        fd = os.open(p["key-file"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(32))
        os.close(fd)
    # The phone records in --work too (the default, /var/lib/kea-phoneprov/state.db, is the
    # installed package's: a test must not write there); "" (none) stays.
    if p.get("state-db", None) != "":
        p["state-db"] = f"{args.work}/state.db"
    if args.profiles:
        p["profiles-dir"] = args.profiles
    url = p.get("base-url", "")
    if args.loopback:
        m = re.match(r"^(\w+)://[^/]*(.*)$", url)
        if not m:
            fail(f"base-url '{url}' is not a URL")
        scheme, path = m.group(1), m.group(2)
        if scheme == "http":
            p["base-url"] = f"http://127.0.0.1:{args.http_port}{path}"
        elif scheme == "tftp":
            p["base-url"] = f"tftp://127.0.0.1:{args.tftp_port}{path}"
        else:
            fail(f"--loopback: base-url scheme '{scheme}' cannot be served by the test")
        if "tftp-server" in p:
            p["tftp-server"] = "127.0.0.1"
    else:
        p["base-url"] = re.sub(r":8080/", f":{args.http_port}/", url)


def adapt_db(db, args):
    if db.get("type") != "postgresql":
        return
    for key, value in (("host", args.pg_host), ("port", args.pg_port), ("name", args.pg_name),
                       ("user", args.pg_user), ("password", args.pg_password)):
        if value is not None:
            db[key] = value


def adapt_dhcp4(d4, args):
    if not args.out or not args.hook:
        fail("a Dhcp4 configuration needs --out and --hook")
    if args.loopback:
        d4 = to_loopback(d4)
    for lib in d4.get("hooks-libraries", []):
        if "libdhcp_phoneprov" in lib["library"]:
            adapt_hook(lib, args)
    if args.interface:
        d4.setdefault("interfaces-config", {})["interfaces"] = [args.interface]
    ls = d4.get("lease-database", {})
    if ls.get("type") == "memfile" and ("name" in ls or ls.get("persist", True)):
        ls["name"] = f"{args.work}/leases4.csv"
    cs = d4.get("control-socket")
    if cs:
        cs["socket-name"] = args.ctrl_socket or f"{args.work}/kea4-ctrl.sock"
    for key in ("hosts-database", "lease-database"):
        adapt_db(d4.get(key, {}), args)
    for db in d4.get("hosts-databases", []):
        adapt_db(db, args)
    d4["loggers"] = [{
        "name": "kea-dhcp4",
        "severity": "DEBUG",
        "debuglevel": 55,
        "output_options": [{"output": f"{args.work}/kea.log", "flush": True}],
    }]
    return d4


def adapt_agent(ca, args):
    ca["http-host"] = "127.0.0.1"
    auth = ca.get("authentication")
    if auth and "directory" in auth:
        auth["directory"] = args.work  # the test writes the password files there
    if args.agent_port:
        ca["http-port"] = args.agent_port
    for server, sock in ca.get("control-sockets", {}).items():
        if server == "dhcp4" and args.ctrl_socket:
            sock["socket-name"] = args.ctrl_socket
        else:
            sock["socket-name"] = f"{args.work}/kea-{server}-ctrl.sock"
    ca["loggers"] = [{
        "name": "kea-ctrl-agent",
        "severity": "DEBUG",
        "debuglevel": 55,
        "output_options": [{"output": f"{args.work}/kea-ctrl-agent.log", "flush": True}],
    }]
    return ca


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out")
    ap.add_argument("--hook")
    ap.add_argument("--key-file", help="the hook's key-file (default: WORK/site.key, written when missing)")
    ap.add_argument("--profiles", help="profiles folder; omit to use the hook's installed default")
    ap.add_argument("--http-port", type=int, default=8080)
    ap.add_argument("--tftp-port", type=int, default=69)
    ap.add_argument("--interface")
    ap.add_argument("--loopback", action="store_true")
    ap.add_argument("--ctrl-socket", help="the dhcp4 control socket (both configurations)")
    ap.add_argument("--agent-port", type=int)
    ap.add_argument("--pg-port", type=int)
    ap.add_argument("--pg-host")
    ap.add_argument("--pg-name")
    ap.add_argument("--pg-user")
    ap.add_argument("--pg-password")
    args = ap.parse_args()
    with open(args.src, encoding="utf-8") as f:
        text = f.read()
    try:
        cfg = json.loads(strip_comments(text))
    except json.JSONDecodeError as e:
        fail(f"{args.src}: not valid JSON (comments removed): {e}")
    known = False
    if "Dhcp4" in cfg:
        cfg["Dhcp4"] = adapt_dhcp4(cfg["Dhcp4"], args)
        known = True
    if "Control-agent" in cfg:
        cfg["Control-agent"] = adapt_agent(cfg["Control-agent"], args)
        known = True
    if not known:
        fail(f"{args.src}: neither Dhcp4 nor Control-agent")
    with open(args.dst, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    main()
