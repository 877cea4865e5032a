#!/usr/bin/env python3
# The hostile soak's LAN attacker beyond malformed DHCP (issue 23), and the real phone
# whose service it must not spoil.
#
# The real phone (127.0.0.6): the reserved Grandstream GXP1628 00:0B:82:27:3B:89. One
# round is what it does when it boots: a DHCP exchange (DISCOVER to ACK, relayed with
# giaddr 127.0.0.6, answered to 127.0.0.6:DHCP_PORT+1), its per-device file fetched from
# nginx at the URL of the ACK's option 66 (a new connection each time), and the SIP PnP
# SUBSCRIBE of docs/sip-pnp.md to `phoneprov pnp` until its NOTIFY (answered with 200 OK), whose
# URL must be the ACK's option 66 (its own token folder).
# Each step's time is measured; an answer missing after 2 s counts as an endless time.
#
#   soak_pnp.py normal PNP_PORT DHCP_PORT [--rounds N]
#       the phone alone (no attack yet): N rounds (7), 0.5 s apart, after one not
#       counted; prints one JSON line: {"dhcp": [ms...], "fetch": [...], "notify": [...]}
#   soak_pnp.py flood PNP_PORT DHCP_PORT RESYNC_PORT HTTP_PORT SECONDS
#       the attacker, for SECONDS, together:
#       - a SIP PnP flood from one source (127.0.0.5): SUBSCRIBEs of random MACs and
#         random models, never answering a NOTIFY; what comes back is counted
#         (amplification);
#       - a model flood on DHCP: DISCOVERs with the reserved phones' MACs and random
#         models in option 60 (Yealink), and Snom MACs with random models;
#       - enumeration (127.0.0.8): GETs of per-device file names of random and reserved
#         phones' MACs on nginx, outside their token folders; answers counted by status;
#       - a listener on resync-port counting the re-sync NOTIFYs the hook sends.
#       Prints one JSON line.
#   soak_pnp.py phone PNP_PORT DHCP_PORT SECONDS NORMAL.json [--floor-ms F]
#       the real phone meanwhile, in a process of its own (as on a LAN, the attacker's
#       threads do not delay its measurements): a round every 0.5 s for SECONDS. Prints
#       one JSON line: for each step the medians normal (NORMAL.json) and under attack,
#       and the limit: twice the normal median, or the normal median plus F ms (default
#       0) when that is more. Exits 1 when the phone went without a NOTIFY (2 s) or had
#       no answer at all of a kind.
import argparse
import http.client
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dhcp_raw  # noqa: E402

PHONE = "127.0.0.6"
PHONE_MAC = "000B82273B89"
PHONE_VC = b"Grandstream GXP1628 dslforum.org"
TIMEOUT = 2.0
INF = float("inf")
rnd = random.Random(23)


def subscribe(addr, lport, call, mac, vendor, model):
    return ("SUBSCRIBE sip:MAC%%3A%s@224.0.1.75 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
            "From: <sip:MAC%%3A%s@224.0.1.75>;tag=1398424896\r\n"
            "To: <sip:MAC%%3A%s@224.0.1.75>\r\n"
            "Call-ID: %s-5060-1@%s\r\nCSeq: 1 SUBSCRIBE\r\n"
            "Contact: <sip:%s:%d>\r\nUser-Agent: %s %s\r\nExpires: 0\r\n"
            "Event: ua-profile;profile-type=\"device\";vendor=\"%s\";model=\"%s\";version=\"\"\r\n"
            "Accept: application/url\r\nContent-Length: 0\r\n\r\n"
            % (mac, addr, lport, call, mac, mac, call, addr, addr, lport, vendor, model, vendor,
               model)).encode()


def header(msg, name):
    for line in msg.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


class Phone:
    """The real phone: each step returns its time in ms (INF: no answer in 2 s)."""

    def __init__(self, pnp_port, dhcp_port):
        self.pnp = ("127.0.0.1", pnp_port)
        self.dhcp = ("127.0.0.1", dhcp_port)
        self.url = None  # the ACK's option 66
        self.mac = bytes.fromhex(PHONE_MAC)
        self.xid = 0x06000000
        self.n = 0
        self.file_url = None
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((PHONE, dhcp_port + 1))  # where Kea answers a relay at 127.0.0.6
        self.problems = []

    def _ask(self, pkt, xid, want, end):
        self.sock.sendto(pkt, self.dhcp)
        while True:
            left = end - time.perf_counter()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            p = dhcp_raw.parse(self.sock.recv(4096))
            if p and p[0] == xid and p[2].get(53, b"\0")[0] in want:
                return p

    def dhcp_step(self):
        """DISCOVER, OFFER, REQUEST, ACK; the ACK's option 66 names the file."""
        start = time.perf_counter()
        end = start + TIMEOUT
        gi = socket.inet_aton(PHONE)
        self.xid += 2
        offer = self._ask(dhcp_raw.packet(self.xid, self.mac, 1, vc=PHONE_VC, giaddr=gi), self.xid, (2,), end)
        if not offer:
            return INF
        ack = self._ask(dhcp_raw.packet(self.xid + 1, self.mac, 3, vc=PHONE_VC, giaddr=gi, requested=offer[1],
                                        server_id=offer[2].get(54)), self.xid + 1, (5, 6), end)
        if not ack or ack[2].get(53) != b"\x05":
            return INF
        ms = (time.perf_counter() - start) * 1000
        o66 = ack[2].get(66)
        if not o66:
            self.problems.append("ACK without option 66")
            return INF
        # Grandstream's option 66 is the folder; the phone asks for cfg<mac>.xml in it.
        self.url = o66.decode()
        self.file_url = self.url.rstrip("/") + "/cfg%s.xml" % PHONE_MAC.lower()
        return ms

    def fetch_step(self):
        """GET of its per-device file from nginx; it must carry the phone's account."""
        if not self.file_url:
            return INF
        u = urllib.parse.urlsplit(self.file_url)
        start = time.perf_counter()
        try:
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=TIMEOUT, source_address=(PHONE, 0))
            c.request("GET", u.path)
            r = c.getresponse()
            body = r.read()
            c.close()
        except OSError as e:
            self.problems.append("fetch: %s" % e)
            return INF
        ms = (time.perf_counter() - start) * 1000
        if r.status != 200 or b">6000<" not in body:
            self.problems.append("fetch: %d, %d bytes" % (r.status, len(body)))
            return INF
        return ms

    def notify_step(self):
        """SUBSCRIBE until the NOTIFY carrying the vendor's URL; the NOTIFY answered."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((PHONE, 0))
        self.n += 1
        start = time.perf_counter()
        s.sendto(subscribe(PHONE, s.getsockname()[1], "ph%d" % self.n, PHONE_MAC, "Grandstream", "GXP1628"),
                 self.pnp)
        s.settimeout(TIMEOUT)
        try:
            while True:
                m = s.recv(65536).decode("latin-1")
                if m.startswith("NOTIFY ") and m.split("\r\n\r\n", 1)[1] == self.url:
                    break
            ms = (time.perf_counter() - start) * 1000
            ans = ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                   "Content-Length: 0\r\n\r\n" % (header(m, "Via"), header(m, "From"), header(m, "To"),
                                                  header(m, "Call-ID"), header(m, "CSeq")))
            s.sendto(ans.encode(), self.pnp)
        except socket.timeout:
            ms = INF
        s.close()
        return ms

    def rounds(self, until, samples, gap=0.5):
        """Rounds every `gap` s while `until()`; the times appended to samples[kind]."""
        while until():
            t0 = time.time()
            for kind, step in (("dhcp", self.dhcp_step), ("fetch", self.fetch_step),
                               ("notify", self.notify_step)):
                samples[kind].append(step())
            time.sleep(max(0.0, t0 + gap - time.time()))


def median(xs):
    """The upper median (of an odd count, the median); INF counts as the longest."""
    return sorted(xs)[len(xs) // 2] if xs else INF


def normal(args):
    ph = Phone(args.pnp_port, args.dhcp_port)
    warm = {"dhcp": [], "fetch": [], "notify": []}
    ph.rounds(lambda: not warm["dhcp"], warm)  # first sighting: renders, not counted
    samples = {"dhcp": [], "fetch": [], "notify": []}
    ph.rounds(lambda: len(samples["dhcp"]) < args.rounds, samples)
    print(json.dumps({k: [round(x, 3) if x != INF else None for x in v] for k, v in samples.items()}
                     | {"problems": ph.problems}))
    # Without an attack every step is answered, or there is nothing to compare with.
    return 0 if all(x != INF for v in samples.values() for x in v) else 1


def flood(args):
    srv = ("127.0.0.1", args.pnp_port)
    end = time.time() + args.seconds
    stats = {"pnp_sent": 0, "pnp_sent_bytes": 0, "pnp_back": 0, "pnp_back_bytes": 0,
             "dhcp_model_packets": 0, "resyncs": 0, "enumeration": {}}

    def pnp_flood():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.5", 0))
        s.setblocking(False)
        lport = s.getsockname()[1]
        i = 0
        while time.time() < end:
            vendor, prefix = rnd.choice([("Grandstream", "000B82"), ("snom", "000413")])
            req = subscribe("127.0.0.5", lport, "fl%d" % i, prefix + "%06X" % rnd.getrandbits(24),
                            vendor, "M%d" % rnd.getrandbits(20))
            s.sendto(req, srv)
            stats["pnp_sent"] += 1
            stats["pnp_sent_bytes"] += len(req)
            i += 1
            t = time.time() + 0.005  # about 200 a second
            while time.time() < t:
                try:
                    d = s.recv(65536)
                    stats["pnp_back"] += 1
                    stats["pnp_back_bytes"] += len(d)
                except BlockingIOError:
                    time.sleep(0.001)
        stop = time.time() + 3  # NOTIFY retransmissions still on their way
        s.settimeout(0.2)
        while time.time() < stop:
            try:
                d = s.recv(65536)
                stats["pnp_back"] += 1
                stats["pnp_back_bytes"] += len(d)
            except socket.timeout:
                pass

    def model_flood():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.7", 0))
        xid = 0x23000000
        while time.time() < end:
            if rnd.random() < 0.5:
                mac = bytes.fromhex("001565ab%04x" % rnd.randrange(20))  # a reserved phone's MAC
                vc = ("yealink T%d" % rnd.randrange(10, 999)).encode()  # no such Yealink model
            else:
                mac = bytes.fromhex("000413%06x" % rnd.getrandbits(24))
                vc = ("snomD9%02d" % rnd.randrange(100)).encode()  # no such Snom model
            xid += 1
            s.sendto(dhcp_raw.packet(xid, mac, 1, vc=vc), ("127.0.0.1", args.dhcp_port))
            stats["dhcp_model_packets"] += 1
            time.sleep(0.01)  # about 100 a second

    def enumeration():
        # Per-device names of random Grandstream MACs, the real phone's and the reserved
        # Yealinks', outside their token folders: about 50 a second from one source.
        by = stats["enumeration"]
        while time.time() < end:
            r = rnd.random()
            if r < 0.2:
                path = "/prov/grandstream/cfg%s.xml" % PHONE_MAC.lower()
            elif r < 0.4:
                path = "/prov/yealink/001565ab%04x.cfg" % rnd.randrange(20)
            else:
                path = "/prov/grandstream/cfg000b82%06x.xml" % rnd.getrandbits(24)
            try:
                c = http.client.HTTPConnection("127.0.0.1", args.http_port, timeout=2,
                                               source_address=("127.0.0.8", 0))
                c.request("GET", path)
                st = str(c.getresponse().status)
                c.close()
            except OSError:
                st = "error"
            by[st] = by.get(st, 0) + 1
            time.sleep(0.02)

    def resyncs():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", args.resync_port))
        s.settimeout(0.2)
        while time.time() < end + 3:
            try:
                if s.recv(65536).startswith(b"NOTIFY "):
                    stats["resyncs"] += 1
            except socket.timeout:
                pass

    threads = [threading.Thread(target=f) for f in (pnp_flood, model_flood, enumeration, resyncs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats["amplification"] = round(stats["pnp_back_bytes"] / max(1, stats["pnp_sent_bytes"]), 3)
    print(json.dumps(stats))
    return 0


def phone(args):
    end = time.time() + args.seconds
    ph = Phone(args.pnp_port, args.dhcp_port)
    samples = {"dhcp": [], "fetch": [], "notify": []}
    ph.rounds(lambda: time.time() < end, samples)
    base = json.load(open(args.normal))
    out = {}
    for kind in ("dhcp", "fetch", "notify"):
        nm = median([INF if x is None else x for x in base[kind]])
        am = median(samples[kind])
        limit = max(2 * nm, nm + args.floor_ms)
        answered = [x for x in samples[kind] if x != INF]
        out[kind] = {"normal_ms": round(nm, 3), "normal_samples": len(base[kind]),
                     "attack_ms": round(am, 3) if am != INF else None,
                     "attack_max_ms": round(max(answered), 3) if answered else None,
                     "attack_samples": len(samples[kind]),
                     "missed": len(samples[kind]) - len(answered),
                     "limit_ms": round(limit, 3), "within": am <= limit}
    print(json.dumps({"phone": out, "phone_problems": ph.problems}))
    return 1 if out["notify"]["missed"] or any(v["attack_ms"] is None for v in out.values()) else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="mode", required=True)
    n = sub.add_parser("normal")
    n.add_argument("pnp_port", type=int)
    n.add_argument("dhcp_port", type=int)
    n.add_argument("--rounds", type=int, default=7)
    f = sub.add_parser("flood")
    f.add_argument("pnp_port", type=int)
    f.add_argument("dhcp_port", type=int)
    f.add_argument("resync_port", type=int)
    f.add_argument("http_port", type=int)
    f.add_argument("seconds", type=float)
    a = sub.add_parser("phone")
    a.add_argument("pnp_port", type=int)
    a.add_argument("dhcp_port", type=int)
    a.add_argument("seconds", type=float)
    a.add_argument("normal")
    a.add_argument("--floor-ms", type=float, default=0.0)
    args = ap.parse_args()
    return {"normal": normal, "flood": flood, "phone": phone}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
