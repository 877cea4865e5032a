#!/usr/bin/env python3
# The hostile soak's LAN attacker beyond malformed DHCP (issue 23), for a bounded time:
# - a SIP PnP flood from one source (127.0.0.5): SUBSCRIBEs of random MACs and random
#   models, never answering a NOTIFY; what comes back is counted (amplification);
# - a model flood on DHCP: DISCOVERs with the reserved phones' MACs and random models
#   in option 60 (Yealink), and Snom MACs with random models;
# - a listener on resync-port counting the re-sync NOTIFYs the hook sends;
# - a real phone (127.0.0.6) sending the SUBSCRIBE of docs/sip-pnp.md every 2 s and
#   answering its NOTIFY: each latency recorded.
# usage: soak_pnp.py PNP_PORT DHCP_PORT RESYNC_PORT SECONDS URL
# Prints one JSON line; exits 1 when the phone went without a NOTIFY for 2 s.
import json, os, random, socket, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dhcp_raw  # noqa: E402

pnp_port, dhcp_port, resync_port, seconds, url = (int(sys.argv[1]), int(sys.argv[2]),
                                                   int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
srv = ("127.0.0.1", pnp_port)
end = time.time() + seconds
stats = {"pnp_sent": 0, "pnp_sent_bytes": 0, "pnp_back": 0, "pnp_back_bytes": 0,
         "dhcp_model_packets": 0, "resyncs": 0, "phone_tries": 0, "phone_ok": 0,
         "phone_latency_ms": []}
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
        s.sendto(dhcp_raw.packet(xid, mac, 1, vc=vc), ("127.0.0.1", dhcp_port))
        stats["dhcp_model_packets"] += 1
        time.sleep(0.01)  # about 100 a second


def resyncs():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", resync_port))
    s.settimeout(0.2)
    while time.time() < end + 3:
        try:
            if s.recv(65536).startswith(b"NOTIFY "):
                stats["resyncs"] += 1
        except socket.timeout:
            pass


def header(msg, name):
    for line in msg.split("\r\n"):
        if line.lower().startswith(name.lower() + ":"):
            return line.split(":", 1)[1].strip()
    return None


def phone():
    missed = 0
    n = 0
    while time.time() < end:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.6", 0))
        lport = s.getsockname()[1]
        n += 1
        start = time.time()
        s.sendto(subscribe("127.0.0.6", lport, "ph%d" % n, "000B82273B89", "Grandstream", "GXP1628"), srv)
        stats["phone_tries"] += 1
        s.settimeout(2)
        try:
            while True:
                m = s.recv(65536).decode("latin-1")
                if m.startswith("NOTIFY ") and m.split("\r\n\r\n", 1)[1] == url:
                    break
            stats["phone_latency_ms"].append(round((time.time() - start) * 1000, 1))
            stats["phone_ok"] += 1
            ans = ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                   "Content-Length: 0\r\n\r\n" % (header(m, "Via"), header(m, "From"), header(m, "To"),
                                                  header(m, "Call-ID"), header(m, "CSeq")))
            s.sendto(ans.encode(), srv)
        except socket.timeout:
            missed += 1
        s.close()
        time.sleep(max(0, start + 2 - time.time()))
    return missed


threads = [threading.Thread(target=f) for f in (pnp_flood, model_flood, resyncs)]
for t in threads:
    t.start()
missed = phone()
for t in threads:
    t.join()
lat = stats.pop("phone_latency_ms")
stats["phone_latency_ms_max"] = max(lat) if lat else None
stats["phone_latency_ms_median"] = sorted(lat)[len(lat) // 2] if lat else None
stats["amplification"] = round(stats["pnp_back_bytes"] / max(1, stats["pnp_sent_bytes"]), 3)
print(json.dumps(stats))
sys.exit(1 if missed or not lat else 0)
