#!/usr/bin/env python3
"""Adapts an example Kea configuration from kea-config/ to a test run.

The examples name installed paths (the hook in Kea's hooks folder, the output in
/var/lib/kea-phoneprov/www, ports 8080 and 69). A test runs them from the build
tree in a temp folder: this rewrites exactly those things and nothing else, so
that what is tested is the example itself.

usage: adapt_kea_config.py IN OUT --work DIR --out DIR --hook SO --profiles DIR
                           [--http-port N] [--tftp-port N] [--interface IF]
                           [--ctrl-socket PATH] [--pg-port N]
"""
import argparse
import json
import re


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hook", required=True)
    ap.add_argument("--profiles", help="profiles folder; omit to use the hook's installed default")
    ap.add_argument("--http-port", type=int, default=8080)
    ap.add_argument("--tftp-port", type=int, default=69)
    ap.add_argument("--interface")
    ap.add_argument("--pg-port", type=int)
    ap.add_argument("--pg-host")
    args = ap.parse_args()
    with open(args.src, encoding="utf-8") as f:
        cfg = json.load(f)
    d4 = cfg["Dhcp4"]
    for lib in d4.get("hooks-libraries", []):
        if "libdhcp_phoneprov" in lib["library"]:
            lib["library"] = args.hook
            p = lib.setdefault("parameters", {})
            p["output-dir"] = args.out
            if args.profiles:
                p["profiles-dir"] = args.profiles
            p["base-url"] = re.sub(r":8080/", f":{args.http_port}/", p["base-url"])
    if args.interface:
        d4["interfaces-config"]["interfaces"] = [args.interface]
    ls = d4.get("lease-database", {})
    if ls.get("type") == "memfile" and "name" in ls:
        ls["name"] = f"{args.work}/leases4.csv"
    cs = d4.get("control-socket")
    if cs:
        cs["socket-name"] = f"{args.work}/kea4-ctrl.sock"
    for key in ("hosts-database", "lease-database"):
        db = d4.get(key, {})
        if db.get("type") == "postgresql":
            if args.pg_port:
                db["port"] = args.pg_port
            if args.pg_host:
                db["host"] = args.pg_host
    for db in d4.get("hosts-databases", []):
        if db.get("type") == "postgresql":
            if args.pg_port:
                db["port"] = args.pg_port
            if args.pg_host:
                db["host"] = args.pg_host
    d4["loggers"] = [{
        "name": "kea-dhcp4",
        "severity": "DEBUG",
        "debuglevel": 55,
        "output_options": [{"output": f"{args.work}/kea.log", "flush": True}],
    }]
    with open(args.dst, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    main()
