#!/usr/bin/env python3
# Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
"""Raw DHCPv4 packets to a kea-dhcp4 on loopback, as a relay would send them
(giaddr 127.0.0.1, replies come back to the relay port = server port + 1).

Every byte is ours: htype, hlen, chaddr, option 60 (NUL-laden, repeated,
oversized), giaddr. Only 127.0.0.1 is ever used.

usage:
  dhcp_raw.py dora PORT CASES.json     one DISCOVER/REQUEST exchange per case;
                                       prints one JSON line per case: mac, offered,
                                       acked, yiaddr, options (code -> hex)
  dhcp_raw.py discover-range PORT FIRSTMAC COUNT VCHEX [--window N]
                                       DISCOVERs from consecutive MACs, a window at a
                                       time; counts OFFERs
  dhcp_raw.py storm PORT CASES.json SECONDS [--rate N]
                                       DISCOVERs round robin, answers discarded
  dhcp_raw.py hostile PORT SECONDS     malformed packets as fast as the rate allows;
        [--rate N] [--seed S]          prints a JSON summary (packets sent by kind)

A case: {"mac": "hex", "vc": "hex" or null, "htype": 1, "hlen": null,
         "vc_repeat": false}
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import sys
import time

COOKIE = b"\x63\x82\x53\x63"


def packet(xid, mac, msgtype, vc=None, htype=1, hlen=None, giaddr=b"\x7f\x00\x00\x01",
           requested=None, server_id=None, vc_repeat=False, extra=b"", hops=1):
    hlen = len(mac) if hlen is None else hlen
    chaddr = (mac + b"\0" * 16)[:16]
    head = struct.pack("!BBBBIHH", 1, htype & 0xff, hlen & 0xff, hops, xid, 0, 0)
    head += b"\0" * 12 + giaddr + chaddr + b"\0" * 192
    opts = bytes([53, 1, msgtype])
    if vc is not None:
        if vc_repeat and len(vc) > 1:
            half = len(vc) // 2
            opts += bytes([60, half]) + vc[:half] + bytes([60, len(vc) - half]) + vc[half:]
        else:
            while True:  # longer than 255: split over several option 60s (RFC 3396)
                part, vc = vc[:255], vc[255:]
                opts += bytes([60, len(part)]) + part
                if not vc:
                    break
    if requested:
        opts += bytes([50, 4]) + requested
    if server_id:
        opts += bytes([54, 4]) + server_id
    opts += bytes([55, 6, 1, 3, 43, 66, 150, 160]) + extra + b"\xff"
    return head + COOKIE + opts


def parse(data):
    if len(data) < 240 or data[236:240] != COOKIE:
        return None
    xid = struct.unpack("!I", data[4:8])[0]
    yiaddr = data[16:20]
    opts = {}
    i = 240
    while i < len(data):
        code = data[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(data):
            break
        n = data[i + 1]
        opts.setdefault(code, b"")
        opts[code] += data[i + 2:i + 2 + n]
        i += 2 + n
    return xid, yiaddr, opts


class Client:
    def __init__(self, port):
        self.server = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port + 1))

    def ask(self, pkt, xid, want, timeout=2.0):
        self.sock.sendto(pkt, self.server)
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            data = self.sock.recv(4096)
            p = parse(data)
            if p and p[0] == xid and p[2].get(53, b"\0")[0] in want:
                return p


def dora(args):
    c = Client(args.port)
    cases = json.load(open(args.cases))
    xid = random.randint(1, 1 << 30)
    for case in cases:
        mac = bytes.fromhex(case["mac"])
        vc = bytes.fromhex(case["vc"]) if case.get("vc") is not None else None
        kw = dict(vc=vc, htype=case.get("htype", 1), hlen=case.get("hlen"),
                  vc_repeat=case.get("vc_repeat", False))
        xid += 1
        res = {"mac": case["mac"], "offered": False, "acked": False, "yiaddr": None, "options": {}}
        offer = c.ask(packet(xid, mac, 1, **kw), xid, (2,), case.get("timeout", 2.0))
        if offer:
            res["offered"] = True
            xid += 1
            ack = c.ask(packet(xid, mac, 3, requested=offer[1], server_id=offer[2].get(54), **kw),
                        xid, (5, 6), case.get("timeout", 2.0))
            if ack and ack[2].get(53) == b"\x05":
                res["acked"] = True
                res["yiaddr"] = socket.inet_ntoa(ack[1])
                res["options"] = {str(k): v.hex() for k, v in ack[2].items()}
        print(json.dumps(res), flush=True)


def release(args):
    # DHCPRELEASE (type 7) of ciaddr by the client MAC, through the relay at 127.0.0.1:
    # Kea answers nothing; the lease goes (and lease4_release runs).
    c = Client(args.port)
    pkt = bytearray(packet(random.randint(1, 1 << 30), bytes.fromhex(args.mac), 7,
                           server_id=socket.inet_aton(args.server_id)))
    pkt[12:16] = socket.inet_aton(args.ciaddr)
    c.sock.sendto(bytes(pkt), c.server)


def hostile(args):
    """Malformed traffic: every kind the hook must shrug off."""
    rnd = random.Random(args.seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server = ("127.0.0.1", args.port)
    vcs = [b"yealink", b"snomD785", b"Polycom-VVX310", b"Cisco Systems, Inc. IP Phone CP-8861"]

    def mac():
        return bytes([0x00, 0x15, 0x65]) + os.urandom(3)

    kinds = {
        "oversized-60": lambda x: packet(x, mac(), 1, vc=b"yealink" + os.urandom(rnd.randint(250, 1200))),
        "repeated-60": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs) * 3, vc_repeat=True),
        "nul-60": lambda x: packet(x, mac(), 1, vc=b"\0".join([rnd.choice(vcs)] * rnd.randint(1, 5)) + b"\0" * 8),
        "random-60": lambda x: packet(x, mac(), rnd.choice((1, 3)), vc=os.urandom(rnd.randint(0, 255))),
        "hlen0": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), hlen=0),
        "hlen17": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), hlen=17),
        "hlen20": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), hlen=20),
        "hlen255": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), hlen=255),
        "htype6": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), htype=6),
        "htype0": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), htype=0),
        "giaddr-forged": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs), giaddr=os.urandom(4)),
        "traversal-60": lambda x: packet(x, mac(), 1, vc=b"yealink/../../../../etc/" + os.urandom(4).hex().encode()),
        "truncated": lambda x: packet(x, mac(), 1, vc=rnd.choice(vcs))[:rnd.randint(0, 300)],
        "garbage": lambda x: os.urandom(rnd.randint(0, 1500)),
        "bad-optlen": lambda x: packet(x, mac(), 1, extra=bytes([60, 250]) + b"yealink"),
    }
    names = sorted(kinds)
    sent = {k: 0 for k in names}
    end = time.time() + args.seconds
    gap = 1.0 / args.rate if args.rate > 0 else 0
    xid = rnd.randint(1, 1 << 30)
    nxt = time.time()
    while time.time() < end:
        k = names[xid % len(names)]
        xid += 1
        try:
            s.sendto(kinds[k](xid), server)
            sent[k] += 1
        except OSError:
            pass
        if gap:
            nxt += gap
            d = nxt - time.time()
            if d > 0:
                time.sleep(d)
    print(json.dumps({"sent": sum(sent.values()), "by-kind": sent}))


def discover_range(args):
    """COUNT DISCOVERs from consecutive MACs PREFIX+0, PREFIX+1, ... with option 60,
    at most --window unanswered at a time (a slow server is waited for, not flooded),
    one retransmission after 2 s; prints how many got an OFFER."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port + 1))
    base = int(args.prefix, 16)
    vc = bytes.fromhex(args.vc)
    offered = set()
    pending = {}  # xid -> (sent at, tries)

    def send(i, tries):
        xid = 0x10000000 + i
        s.sendto(packet(xid, (base + i).to_bytes(6, "big"), 1, vc=vc), ("127.0.0.1", args.port))
        pending[xid] = (time.time(), tries)

    nxt = 0
    deadline = time.time() + args.max_seconds
    while (nxt < args.count or pending) and time.time() < deadline:
        while nxt < args.count and len(pending) < args.window:
            send(nxt, 1)
            nxt += 1
        r, _, _ = select.select([s], [], [], 0.2)
        if r:
            p = parse(s.recv(4096))
            if p and p[2].get(53) == b"\x02" and p[0] in pending:
                offered.add(p[0])
                del pending[p[0]]
        now = time.time()
        for xid, (at, tries) in list(pending.items()):
            if now - at > 2.0:
                del pending[xid]
                if tries < 2:
                    send(xid - 0x10000000, tries + 1)
    print(json.dumps({"sent": args.count, "offered": len(offered)}))


def storm(args):
    """DISCOVERs for the cases, round robin, without waiting for answers (each OFFER
    queues a render); runs until killed or for SECONDS."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", args.port + 1))
    s.setblocking(False)
    cases = json.load(open(args.cases))
    pkts = [packet(1000 + i, bytes.fromhex(c["mac"]), 1,
                   vc=bytes.fromhex(c["vc"]) if c.get("vc") else None)
            for i, c in enumerate(cases)]
    end = time.time() + args.seconds
    gap = 1.0 / args.rate
    i = 0
    while time.time() < end:
        try:
            s.sendto(pkts[i % len(pkts)], ("127.0.0.1", args.port))
        except OSError:
            pass
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        i += 1
        time.sleep(gap)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("dora")
    a.add_argument("port", type=int)
    a.add_argument("cases")
    a.set_defaults(fn=dora)
    r = sub.add_parser("release")
    r.add_argument("port", type=int)
    r.add_argument("mac", help="12 hex digits")
    r.add_argument("ciaddr")
    r.add_argument("--server-id", default="127.0.0.1")
    r.set_defaults(fn=release)
    h = sub.add_parser("hostile")
    h.add_argument("port", type=int)
    h.add_argument("seconds", type=float)
    h.add_argument("--rate", type=float, default=500)
    h.add_argument("--seed", type=int, default=1)
    h.set_defaults(fn=hostile)
    dr = sub.add_parser("discover-range")
    dr.add_argument("port", type=int)
    dr.add_argument("prefix", help="first MAC, 12 hex digits")
    dr.add_argument("count", type=int)
    dr.add_argument("vc", help="option 60, hex")
    dr.add_argument("--window", type=int, default=32)
    dr.add_argument("--max-seconds", type=float, default=300)
    dr.set_defaults(fn=discover_range)
    st = sub.add_parser("storm")
    st.add_argument("port", type=int)
    st.add_argument("cases")
    st.add_argument("seconds", type=float)
    st.add_argument("--rate", type=float, default=2000)
    st.set_defaults(fn=storm)
    args = ap.parse_args()
    args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
