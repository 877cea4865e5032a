#!/usr/bin/env python3
# Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
# Writes the seed corpora of fuzz_dhcp, fuzz_render and fuzz_params (committed
# under tests/fuzz/corpus/<target>/seed-*). Run again only to change the seeds;
# files the fuzzer found (crash-*, found-*) are kept.
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def dhcp(mac, vc=None, htype=1, hlen=None, msgtype=1, giaddr=b"\0\0\0\0", extra=b"", raw_opts=None):
    hlen = len(mac) if hlen is None else hlen
    chaddr = (mac + b"\0" * 16)[:16]
    head = struct.pack("!BBBBIHH", 1, htype, hlen, 0, 0x12345678, 0, 0x8000)
    head += b"\0" * 12 + giaddr + chaddr + b"\0" * 64 + b"\0" * 128
    opts = bytes([53, 1, msgtype])
    if raw_opts is not None:
        opts += raw_opts
    elif vc is not None:
        opts += bytes([60, len(vc)]) + vc
    opts += bytes([55, 4, 1, 3, 66, 150]) + extra + b"\xff"
    return head + b"\x63\x82\x53\x63" + opts


def dhcp_seeds():
    macs = {
        "yealink": bytes.fromhex("001565aabbcc"),   # reserved with device data
        "snom": bytes.fromhex("000413010203"),
        "pinned": bytes.fromhex("3c22fbb10203"),
        "polycom": bytes.fromhex("0004f2010203"),   # reservation with its own option 66
        "cisco": bytes.fromhex("001e4a000001"),
        "grandstream": bytes.fromhex("000b82273b89"),
        "laptop": bytes.fromhex("3c22fb010203"),    # reservation pins snom
    }
    vcs = [b"yealink", b"snomD785", b"Polycom-VVX310", b"Cisco Systems, Inc. IP Phone CP-8861-3PCC",
           b"Grandstream GXP1628 dslforum.org", b"AastraIPPhone6867i", b"ccp.avaya.com",
           b"Fanvil X4U", b"Htek UC926", b"Gigaset_N720_DM_PRO", b"Panasonic KX-UT136",
           b"MSFT 5.0", b"audc-ipphone.430HD"]
    n = 0
    for control in (0, 1, 8, 9, 12, 2, 3):
        for (name, mac) in macs.items():
            for vc in vcs[:4] if control not in (0, 8) else vcs:
                write("dhcp", "%03d" % n, bytes([control]) + dhcp(mac, vc, msgtype=1 if control & 1 == 0 else 3))
                n += 1
    hostile = [
        ("hlen0", bytes([8]) + dhcp(macs["yealink"], b"yealink", hlen=0)),
        ("hlen17", bytes([8]) + dhcp(macs["yealink"], b"yealink", hlen=17)),
        ("hlen20", bytes([8]) + dhcp(macs["yealink"], b"yealink", hlen=20)),
        ("hlen255", bytes([8]) + dhcp(macs["yealink"], b"yealink", hlen=255)),
        ("htype6", bytes([8]) + dhcp(macs["yealink"], b"yealink", htype=6)),
        ("htype0", bytes([8]) + dhcp(macs["yealink"], b"yealink", htype=0)),
        ("vc-nul", bytes([8]) + dhcp(macs["snom"], b"snom\0D785\0\0")),
        ("vc-empty", bytes([8]) + dhcp(macs["snom"], b"")),
        ("vc-255", bytes([8]) + dhcp(macs["snom"], b"snomD785" + b"A" * 247)),
        ("vc-repeat", bytes([8]) + dhcp(macs["snom"], raw_opts=bytes([60, 4]) + b"snom" + bytes([60, 4]) + b"D785")),
        ("vc-traversal", bytes([8]) + dhcp(macs["yealink"], b"yealink/../../etc/passwd")),
        ("vc-crlf", bytes([8]) + dhcp(macs["yealink"], b"Yealink SIP-T46S\r\nX=1")),
        ("giaddr", bytes([8]) + dhcp(macs["yealink"], b"yealink", giaddr=b"\x0a\x00\x00\x01")),
        ("truncated", bytes([0]) + dhcp(macs["yealink"], b"yealink")[:250]),
        ("no-cookie", bytes([0]) + dhcp(macs["yealink"], b"yealink")[:236]),
        ("bad-optlen", bytes([0]) + dhcp(macs["yealink"], raw_opts=bytes([60, 200]) + b"yealink")),
        ("overload", bytes([0]) + dhcp(macs["yealink"], b"yealink", extra=bytes([52, 1, 3]))),
        ("multicast", bytes([8]) + dhcp(bytes.fromhex("011565aabbcc"), b"yealink")),
        ("allzero", bytes([8]) + dhcp(bytes(6), b"yealink")),
        ("inform", bytes([1]) + dhcp(macs["yealink"], b"yealink", msgtype=8)),
    ]
    for name, data in hostile:
        write("dhcp", name, data)


def render_seeds():
    sep = b"\xff"
    fixed = [
        [b"", b"1001", b"Alice", b"10.0.0.1"],
        [b"\"", b"a\"b", b"x", b"y"],
        [b"", b"a\nb", b"c", b"d"],
        [b"", b"a\rb", b"c", b"d"],
        [b"", b"x\xe2\x80\xa8y", b"c", b"d"],  # U+2028
        [b"", b"\xc0\xaf", b"c", b"d"],        # overlong '/'
        [b"", b"<a>&amp;\"'", b"]]>", b"\t"],
        [b"", b"\x00", b"", b""],
        [b"#;", b"a#b", b"c;", b""],
    ]
    n = 0
    for mode in (0, 1):
        for parts in fixed:
            write("render", "%03d" % n, bytes([mode, 0]) + sep.join(parts))
            n += 1
    for v in (b"001565aabbcc", b"../etc/passwd", b"a/b", b".hidden", b"x\0y", b"CON"):
        write("render", "%03d" % n, bytes([2, 0]) + v)
        n += 1
    templates = [
        (b"k = {{v}}\n{{#list}}{{x}}{{/list}}", b'{"v": "a\\nb", "list": [{"x": "1"}]}'),
        (b"{{{v}}}", b'{"v": "x"}'),
        (b"{{ &v}}", b'{"v": "x"}'),
        (b"{{=<% %>=}}<%v%>", b'{"v": "x"}'),
        (b"{{#a}}{{#b}}{{c}}{{/b}}{{/a}}", b'{"a": [{"b": [{"c": "EVIL\\r\\nx=1"}]}]}'),
        (b"{{>partial}}", b'{"v": 1}'),
        (b"{{^v}}none{{/v}}{{v.x}}", b'{"v": {"x": "y"}}'),
        (b"{{#v}}", b'{}'),
        (b"{{! comment }}{{v}}", b'{"v": 12345678901234567890}'),
    ]
    for i, (t, vars_) in enumerate(templates):
        write("render", "%03d" % n, bytes([3, i % 3]) + t + sep + vars_)
        n += 1
    devices = [
        {"sip-server": "10.77.0.5", "accounts": [{"user": "1001", "password": "s3cretpw", "display-name": "Alice"}]},
        {"sip-server": "EVIL\nautoprovision.server.url=http://evil/", "accounts": [{"user": "1001", "password": "s3cretpw"}]},
        {"accounts": [{"user": "EVIL</user><admin>1</admin>", "password": "p<w>&\"'xx", "display-name": "EVIL&amp;"}]},
        {"accounts": [{"user": "1001", "password": "EVIL\r\npassword2=x", "display-name": "A\u2028B EVIL"}]},
        {"vendor": "snom", "model": "D785", "timezone": "EVIL\u0085x"},
        {"accounts": "notalist"},
        {"accounts": [1, 2, 3]},
        {"hostname": "../../../etc/cron.d/x", "mac": "../x", "model": "../../x"},
        {"admin-password": "EVIL\n\n", "language": "EVIL\t"},
    ]
    for v in range(13):
        for j, d in enumerate(devices):
            if (v + j) % 3 == 0 or j < 2:
                write("render", "%03d" % n, bytes([4, v]) + json.dumps(d).encode() + sep + b"" + sep + b"192.0.2.10")
                n += 1


def params_seeds():
    base = {"output-dir": "/srv/phoneprov", "base-url": "http://192.0.2.1/prov"}
    seeds = [
        base,
        dict(base, **{"tftp-server": "192.0.2.69", "render-threads": 4, "queue-size": 1024,
                      "render-wait-ms": 0, "render-interval": 0, "client-classes": "always"}),
        dict(base, **{"vendors": {"yealink": {"enabled": False},
                                  "snom": {"variables": {"ntp-server": "pool.ntp.org"},
                                           "models": {"D785": {"variables": {"x": 1}}}},
                                  "polycom": {"options": [{"code": 66, "value": "{{base-url}}/x"}]},
                                  "cisco": {"add-options": [{"code": 150, "type": "ipv4-list", "value": "192.0.2.5"}],
                                            "override-subnet-options": False}}}),
        dict(base, **{"oui-prefixes": {"00:15:65": "yealink", "70:B3:D5:1/28": "snom"}}),
        dict(base, **{"defaults": {"accounts": [], "timezone": "UTC", "n": 1, "b": True}}),
        dict(base, **{"output-dir": "relative"}),
        dict(base, **{"base-url": "ftp://x"}),
        dict(base, **{"base-url": "http:///x"}),
        dict(base, **{"render-threads": 1e300}),
        dict(base, **{"render-threads": -1}),
        dict(base, **{"queue-size": "10"}),
        dict(base, **{"vendors": {"nosuch": {}}}),
        dict(base, **{"vendors": {"snom": {"models": {"../x": {}}}}}),
        dict(base, **{"vendors": {"snom": {"options": [{"code": 66, "value": "x" * 300}]}}}),
        dict(base, **{"unknown-key": 1}),
        dict(base, **{"tftp-server": "::1"}),
        dict(base, **{"defaults": {"x": {"nested": 1}}}),
        [],
        "string",
        None,
    ]
    for i, s in enumerate(seeds):
        write("params", "%03d" % i, json.dumps(s).encode())
    write("params", "deep", b"[" * 200 + b"]" * 200)


if __name__ == "__main__":
    dhcp_seeds()
    render_seeds()
    params_seeds()
    sys.exit(0)
