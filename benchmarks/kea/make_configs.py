#!/usr/bin/env python3
"""Writes the Kea configurations that the side-by-side benchmark compares.

Every setup serves the same subnet with the same N host reservations (phones
with their SIP data in user-context), so that only the provisioning differs:
  alone   Kea alone
  class66 a client class matching option 60 that gives option 66 (always-send)
  flex    libdhcp_flex_option.so building a per-MAC URL in option 66
  hook    libdhcp_phoneprov.so: identification, options and the render trigger
usage: make_configs.py OUTDIR --phones N --hook SO --profiles DIR --out DIR
       [--iface lo] [--subnet 127.0.0.0/8 --pool A-B] [--mt THREADS]
       [--render true|false] [--registry-dir DIR] [--groups FILE]
--groups: a JSON list of {"vendor", "oui", "model"}; the phones are split evenly
between them (group g's phone i is OUI:00:00:00 + i) and each reservation pins its
vendor and model, so that `phoneprov render` renders offline what the hook renders.
Without it every phone is a Yealink, 00:15:65:00:00:00 + i.
"""
import argparse
import json
import os

HOOKS_DIR = "/usr/lib/x86_64-linux-gnu/kea/hooks"


def mac(i):
    return "00:15:65:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)


def phones(args):
    """(mac, pin) of every phone: pin is None, or {"vendor", "model"}."""
    if not args.groups:
        return [(mac(i), None) for i in range(args.phones)]
    with open(args.groups) as fh:
        groups = json.load(fh)
    out = []
    per = args.phones // len(groups)
    for g in groups:
        oui = g["oui"]
        for i in range(per):
            out.append(("%s:%02x:%02x:%02x" % (oui, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
                        {"vendor": g["vendor"], "model": g.get("model", "")}))
    return out


def base(args, work):
    reservations = []
    for i, (m, pin) in enumerate(phones(args)):
        data = {"sip-server": "10.77.0.5",
                "accounts": [{"user": str(1000 + i), "password": "pw%d" % i,
                              "display-name": "Phone %d" % i}]}
        if pin:
            data.update({k: v for k, v in pin.items() if v})
        reservations.append({
            "hw-address": m,
            "hostname": "phone-%d" % i,
            "user-context": {"phoneprov": data},
        })
    cfg = {"Dhcp4": {
        "interfaces-config": {"interfaces": [args.iface], "dhcp-socket-type": "udp"},
        "lease-database": {"type": "memfile", "persist": False, "lfc-interval": 0},
        "valid-lifetime": 3600,
        "host-reservation-identifiers": ["hw-address"],
        "subnet4": [{"id": 1, "subnet": args.subnet,
                     "pools": [{"pool": args.pool}],
                     "reservations": reservations}],
        "loggers": [{"name": "kea-dhcp4", "severity": "WARN",
                     "output_options": [{"output": os.path.join(work, "kea.log")}]},
                    # phoneprov's INFO lines (PHONEPROV_RESERVED_DONE: the render before a storm)
                    {"name": "kea-dhcp4.phoneprov-hooks", "severity": "INFO",
                     "output_options": [{"output": os.path.join(work, "phoneprov.log")}]}],
    }}
    if args.mt:
        cfg["Dhcp4"]["multi-threading"] = {"enable-multi-threading": True,
                                           "thread-pool-size": args.mt,
                                           "packet-queue-size": 256}
    else:
        cfg["Dhcp4"]["multi-threading"] = {"enable-multi-threading": False}
    return cfg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--phones", type=int, default=600)
    ap.add_argument("--hook", required=True)
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--iface", default="lo")
    ap.add_argument("--subnet", default="127.0.0.0/8")
    ap.add_argument("--pool", default="127.1.0.1 - 127.1.255.250")
    ap.add_argument("--mt", type=int, default=0)
    ap.add_argument("--base-url", default="http://127.0.0.1:8080/prov")
    ap.add_argument("--render", default="true")
    ap.add_argument("--registry-dir", default="")
    ap.add_argument("--groups", default="")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    url = args.base_url + "/yealink/"
    setups = {}
    setups["alone"] = base(args, args.outdir)
    c = base(args, args.outdir)
    c["Dhcp4"]["client-classes"] = [{
        "name": "YEALINK",
        "test": "substring(option[60].hex,0,7) == 'yealink'",
        "option-data": [{"name": "tftp-server-name", "data": url, "always-send": True}]}]
    setups["class66"] = c
    f = base(args, args.outdir)
    f["Dhcp4"]["hooks-libraries"] = [{
        "library": os.path.join(HOOKS_DIR, "libdhcp_flex_option.so"),
        "parameters": {"options": [{
            "code": 66,
            "add": "ifelse(substring(option[60].hex,0,7) == 'yealink', "
                   "concat('%s', hexstring(pkt4.mac, '')), '')" % url}]}}]
    setups["flex"] = f
    h = base(args, args.outdir)
    h["Dhcp4"]["hooks-libraries"] = [{
        "library": args.hook,
        "parameters": {"output-dir": args.out, "base-url": args.base_url,
                       "profiles-dir": args.profiles,
                       "render": args.render == "true"}}]
    if args.registry_dir:
        h["Dhcp4"]["hooks-libraries"][0]["parameters"]["registry-dir"] = args.registry_dir
    # A site key, as the package writes one: reserved phones get per-device folders
    # (the token in their options), the default.
    key = os.path.join(args.outdir, "site.key")
    if not os.path.exists(key):
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, os.urandom(32))
        os.close(fd)
    h["Dhcp4"]["hooks-libraries"][0]["parameters"]["key-file"] = key
    setups["hook"] = h
    for name, cfg in setups.items():
        with open(os.path.join(args.outdir, name + ".json"), "w") as fh:
            json.dump(cfg, fh, indent=1)


if __name__ == "__main__":
    main()
