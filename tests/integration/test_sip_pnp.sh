#!/usr/bin/env bash
# SIP PnP for real (phoneprov pnp): sipp plays a Grandstream GXP1628, a Yealink and a
# Snom sending the SUBSCRIBE they multicast at boot; the responder answers 200 OK and a
# NOTIFY whose body is exactly the option 66 that kea-dhcp4 with the hook gives the same
# phone (the same hook parameters, read from the same Kea config), and renders the
# phone's files. Compact and folded headers, retransmissions, vendors we do not serve,
# and garbage (random bytes, truncated messages, 64 KiB datagrams) that never stops it.
# Then, in a network namespace made for the test, the same through the group 224.0.1.75.
source "$(dirname "$0")/lib.sh"
pp_setup
command -v sipp >/dev/null || pp_fail "sipp is not installed (Debian package sip-tester)"
SIPP_DIR="$SOURCE_DIR/tests/integration/sipp"
NS=""
trap 'pp_cleanup; [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null || true' EXIT

# The quick start's config, with a reservation for the Grandstream too.
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/quickstart.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR"
# device-tokens on (the default): reserved phones get their token folder's URL from PnP
# as from DHCP, and their files there only.
jq '.Dhcp4.subnet4[0].reservations += [{"hw-address": "00:0b:82:27:3b:89", "hostname": "lobby",
      "user-context": {"phoneprov": {"sip-server": "127.0.0.1",
        "accounts": [{"user": "2001", "password": "gs-s3cret", "display-name": "Lobby"}]}}}]' \
    "$WORK/quickstart.json" > "$WORK/kea.json"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }

# What DHCP gives each phone: option 66 from the real kea-dhcp4 and hook.
DHCP=$(pp_free_port 12367)
pp_start_kea "$WORK/kea.json" "$DHCP"
dhcp_url() {  # MAC VENDOR-CLASS
    pp_simulate --mac "$1" --vendor-class "$2" --no-fetch --json \
        | jq -r '.["ack-options"][] | select(.code == 66) | .text'
}
GS_URL=$(dhcp_url 00:0b:82:27:3b:89 "Grandstream GXP1628 dslforum.org")
YL_URL=$(dhcp_url 00:15:65:aa:bb:cc yealink)
SN_URL=$(dhcp_url 00:04:13:93:90:50 snom360)
for u in "$GS_URL" "$YL_URL" "$SN_URL"; do
    case "$u" in http://*/prov/*/) ;; *) pp_fail "DHCP gave no usable option 66: '$u'";; esac
done
kill "$KEA_PID"; wait "$KEA_PID" 2>/dev/null || true
rm -rf "$OUT"/*  # what the responder renders is checked below

# pp_start_pnp LOG ARGS...: the responder, in the background; PNP_PID.
pp_start_pnp() {
    local log=$1; shift
    "$PHONEPROV" pnp --config "$WORK/kea.json" --verbose "$@" > "$log" 2>&1 &
    PNP_PID=$!
    PIDS+=($PNP_PID)
}
# scenario NAME URL [MAC]: the sipp scenario with the URL (as a regular expression) and MAC.
scenario() {
    python3 - "$SIPP_DIR/$1.xml" "$WORK/$1.xml" "$2" "${3:-}" <<'PY'
import sys
src, dst, url, mac = sys.argv[1:5]
url_re = "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in url)
text = open(src).read().replace("@URL_RE@", url_re).replace("@MAC@", mac)
open(dst, "w").write(text)
PY
}
# sipp_uac NAME TARGET: plays the phone of scenario NAME against TARGET (ip:port).
sipp_uac() {
    local name=$1 target=$2 ns=()
    [ -n "${3:-}" ] && ns=(ip netns exec "$3")
    local lport
    lport=$(pp_free_port 15170)
    timeout 30 "${ns[@]}" sipp -sf "$WORK/$name.xml" -m 1 -i 127.0.0.1 -p "$lport" "$target" \
        -timeout 15s -timeout_error -nostdin -trace_err -error_file "$WORK/$name.err" \
        -trace_logs -log_file "$WORK/$name.actions" > "$WORK/$name.out" 2>&1 \
        || { cat "$WORK/$name.err" "$WORK/$name.actions" >&2 || true; tail -20 "$WORK"/pnp*.log >&2; \
             pp_fail "sipp scenario $name against $target"; }
}

PORT=$(pp_free_port 15060)
pp_start_pnp "$WORK/pnp.log" --listen 127.0.0.1 --port "$PORT" --no-multicast --t1-ms 100
pp_wait_port udp "$PORT"

# 1. The three phones, as their documents show them.
scenario pnp_grandstream "$GS_URL"
sipp_uac pnp_grandstream "127.0.0.1:$PORT"
# Its file in the folder its URL names (its token folder), not at its MAC-derived name.
GS_FILE="$OUT/${GS_URL#*/prov/}cfg000b82273b89.xml"
case "$GS_URL" in */prov/grandstream/?*/) ;; *) pp_fail "no token folder in the Grandstream's URL: $GS_URL";; esac
grep -qxF "    <P35>2001</P35>" "$GS_FILE" || pp_fail "the Grandstream's file lacks its account"
[ "$(stat -c '%a %G' "$GS_FILE")" = "640 $PP_GROUP" ] || pp_fail "mode and group of the Grandstream's file"
[ ! -e "$OUT/grandstream/cfg000b82273b89.xml" ] || pp_fail "the Grandstream's file at its MAC-derived name"

scenario pnp_yealink "$YL_URL" 001565aabbcc
sipp_uac pnp_yealink "127.0.0.1:$PORT"
grep -qxF "account.1.user_name = 1001" "$OUT/${YL_URL#*/prov/}001565aabbcc.cfg" || pp_fail "the Yealink's file"
MODEL_FILE=$(jq -r '.models.T46S.variables["model-file"]' "$PROFILES_DIR/yealink/profile.json")
[ -f "$OUT/yealink/$MODEL_FILE" ] || pp_fail "no model file $MODEL_FILE for model SIP-T46S (T46S)"

scenario pnp_snom "$SN_URL"
sipp_uac pnp_snom "127.0.0.1:$PORT"
[ -f "$OUT/snom/snom360.htm" ] || pp_fail "no snom360.htm for model snom360"
[ ! -e "$OUT/snom/000413939050.xml" ] || pp_fail "per-device file for a Snom without reservation"

scenario pnp_compact "$GS_URL"
sipp_uac pnp_compact "127.0.0.1:$PORT"

# SIGHUP reads the Kea config again: a reservation added for the Snom takes effect (its
# per-device file now renders); a config that does not load leaves the old one in place.
jq '.Dhcp4.subnet4[0].reservations += [{"hw-address": "00:04:13:93:90:50", "hostname": "hall",
      "user-context": {"phoneprov": {"sip-server": "127.0.0.1",
        "accounts": [{"user": "3001", "password": "sn-s3cret"}]}}}]' "$WORK/kea.json" > "$WORK/kea.new"
cp "$WORK/kea.json" "$WORK/kea.good"
mv "$WORK/kea.new" "$WORK/kea.json"
hup() {  # EXPECTED-LOG-LINE: SIGHUP, then wait for the line (the Nth time it appears)
    local before
    before=$(grep -c "$1" "$WORK/pnp.log" || true)
    kill -HUP "$PNP_PID"
    for _ in $(seq 50); do
        [ "$(grep -c "$1" "$WORK/pnp.log" || true)" -gt "$before" ] && return 0
        sleep 0.1
    done
    pp_fail "no '$1' after SIGHUP"
}
hup "configuration read again"
# Reserved now: its token folder's URL (where `phoneprov render` puts its file).
install -d -m 0750 -o root -g "$PP_GROUP" "$WORK/tok"
SN_TOK=$("$PHONEPROV" render --config "$WORK/kea.json" --mac 00:04:13:93:90:50 --output "$WORK/tok" 2>/dev/null \
    | awk -F'\t' '$2 ~ /^snom\/[0-9a-f]+\/000413939050\.xml$/ {split($2, p, "/"); print p[2]}')
[ -n "$SN_TOK" ] || pp_fail "phoneprov render made no token folder for the reserved Snom"
scenario pnp_snom "${SN_URL}$SN_TOK/"
sipp_uac pnp_snom "127.0.0.1:$PORT"
SN_FILE=$(find "$OUT/snom" -name 000413939050.xml | head -1)
grep -q ">3001<" "${SN_FILE:-/dev/null}" || pp_fail "the Snom's reservation did not reach the responder"
echo '{"Dhcp4": {' > "$WORK/kea.json"
hup "reload failed, keeping the old configuration"
sipp_uac pnp_snom "127.0.0.1:$PORT"
mv "$WORK/kea.good" "$WORK/kea.json"

# 2. A phone played by Python: folded lines, a retransmitted SUBSCRIBE (one 200 OK again,
# no second NOTIFY), a NOTIFY left unanswered (retransmitted with the same branch), and
# SUBSCRIBEs that get no answer at all (unknown vendor, a vendor without SIP PnP,
# another profile type, another event package, a MAC that is no phone's).
cat > "$WORK/phone.py" <<'PY'
import random, re, socket, sys, time

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

mode, port, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
srv = ("127.0.0.1", port)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
me = s.getsockname()[1]

def subscribe(call, event='ua-profile;profile-type="device";vendor="Grandstream";model="GXP1628"',
              mac="MAC%3A000B82273B89", branch=None):
    branch = branch or "z9hG4bK" + call
    return ("SUBSCRIBE sip:%s@224.0.1.75 SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport\r\n"
            "From: <sip:%s@224.0.1.75>\r\n ;tag=ft%s\r\n"
            "To: <sip:%s@224.0.1.75>\r\n"
            "Call-ID: %s\r\nCSeq: 1 SUBSCRIBE\r\n"
            "Contact: <sip:127.0.0.1:%d>\r\n"
            "Event: %s\r\n"
            "Accept: application/url\r\nContent-Length: 0\r\n\r\n"
            % (mac, me, branch, mac, call, mac, call, me, event)).encode()

def recv(timeout):
    s.settimeout(timeout)
    try:
        return s.recv(65536).decode("latin-1")
    except socket.timeout:
        return None

def header(msg, name):
    m = re.search(r"^%s:[ \t]*(.*?)\r$" % name, msg, re.M | re.I)
    return m.group(1) if m else None

if mode == "folded":
    # The Event parameters continue on a folded line, the From tag on another.
    req = subscribe("fold1", event='ua-profile;profile-type="device";\r\n vendor="Grandstream";model="GXP1628"')
    s.sendto(req, srv)
    ok = recv(5)
    if not ok or not ok.startswith("SIP/2.0 200 OK"):
        fail("no 200 OK to the folded SUBSCRIBE: %r" % ok)
    s.sendto(req, srv)  # a retransmission: the same 200 OK again, no new NOTIFY
    msgs = [recv(5), recv(5)]
    oks = [m for m in msgs if m and m.startswith("SIP/2.0 200")]
    notifies = [m for m in msgs if m and m.startswith("NOTIFY ")]
    if len(oks) != 1 or len(notifies) != 1:
        fail("expected one more 200 OK and one NOTIFY, got %r" % msgs)
    if header(oks[0], "To") != header(ok, "To"):
        fail("the retransmitted SUBSCRIBE got another To tag")
    n = notifies[0]
    body = n.split("\r\n\r\n", 1)[1]
    if body != url:
        fail("NOTIFY body %r, expected %r" % (body, url))
    # Left unanswered, the NOTIFY comes again with the same branch.
    again = recv(5)
    if not again or header(again, "Via") != header(n, "Via"):
        fail("NOTIFY not retransmitted: %r" % again)
    extra = None
    ans = ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
           "Content-Length: 0\r\n\r\n" % (header(n, "Via"), header(n, "From"), header(n, "To"),
                                          header(n, "Call-ID"), header(n, "CSeq")))
    s.sendto(ans.encode(), srv)
    # Answered: no more NOTIFYs (a retransmission may have crossed our answer).
    while True:
        extra = recv(1.5)
        if extra is None:
            break
        if not extra.startswith("NOTIFY"):
            fail("unexpected %r" % extra)
    print("folded: ok")
elif mode == "silent":
    cases = [
        ("unknown vendor", subscribe("s1", event='ua-profile;profile-type="device";vendor="Acme";model="X1"',
                                     mac="MAC%3A020000000001")),
        ("vendor without SIP PnP", subscribe("s2", event='ua-profile;profile-type="device";vendor="Polycom";model="VVX310"',
                                             mac="MAC%3A0004f2000001")),
        ("profile-type user", subscribe("s3", event='ua-profile;profile-type="user";vendor="Grandstream"')),
        ("event presence", subscribe("s4", event="presence")),
        ("multicast MAC", subscribe("s5", mac="MAC%3A010B82273B89")),
        ("not a SUBSCRIBE", subscribe("s6").replace(b"SUBSCRIBE sip", b"OPTIONS sip", 1)),
    ]
    for name, req in cases:
        s.sendto(req, srv)
        got = recv(0.7)
        if got is not None:
            fail("%s: got an answer %r" % (name, got[:80]))
    print("silent: ok")
elif mode == "garbage":
    rnd = random.Random(6080)
    valid = subscribe("g1")
    sent = 0
    def send(data):
        global sent
        s.sendto(data, srv)
        sent += 1
    for _ in range(300):
        send(bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(1, 1400))))
    for cut in range(1, len(valid) - 4, 5):
        send(valid[:cut])                                             # truncated
    send(b"\r\n\r\n")                                                 # keep-alive
    send(b"\x00" * 1000)
    send(b"A" * 65507)                                                # the largest UDP datagram
    send(valid[:-4] + b"\r\n" + b"X-Pad: " + b"y" * 65000 + b"\r\n\r\n")  # 64 KiB of headers
    send(valid.replace(b"Content-Length: 0", b"Content-Length: 65535"))
    send(valid.replace(b"Content-Length: 0", b"Content-Length: -1"))
    send(valid.replace(b"\r\nTo:", b"\r\nTo:\x00", 1))
    send(valid.replace(b"\r\nTo:", b"\rTo:", 1))
    send(b"SUBSCRIBE sip:x SIP/2.0\r\n" + b"X-H: y\r\n" * 2000 + b"\r\n")
    send(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKnone\r\nCSeq: 1 NOTIFY\r\n\r\n")
    send(valid.replace(b"SIP/2.0/UDP", b"SIP/2.0/UDP [::1", 1))
    for i in range(200):  # mutated SUBSCRIBEs, from a port that answers nothing
        b = bytearray(valid)
        for _ in range(rnd.randrange(1, 8)):
            b[rnd.randrange(len(b))] = rnd.getrandbits(8)
        send(bytes(b))
    print("garbage: %d datagrams" % sent)
PY

timeout 60 python3 "$WORK/phone.py" folded "$PORT" "$GS_URL" || pp_fail "folded SUBSCRIBE"
timeout 60 python3 "$WORK/phone.py" silent "$PORT" "$GS_URL" || pp_fail "SUBSCRIBEs that must get no answer"
for why in "unknown vendor 'Acme'" "vendor polycom does not use SIP PnP" "profile-type is not device" \
           "Event is not ua-profile" "multicast"; do
    grep -q "$why" "$WORK/pnp.log" || pp_fail "no log line saying '$why'"
done

# 3. Garbage, then a valid SUBSCRIBE still gets its answer.
timeout 60 python3 "$WORK/phone.py" garbage "$PORT" "$GS_URL" || pp_fail "sending garbage"
pp_wait_log "the next ones are left out" "$WORK/pnp.log" 30 || pp_fail "the log is not rate-limited"
kill -0 "$PNP_PID" 2>/dev/null || { tail -20 "$WORK/pnp.log" >&2; pp_fail "garbage stopped the responder"; }
grep -q "malformed datagram" "$WORK/pnp.log" || pp_fail "no log line for malformed datagrams"
sipp_uac pnp_grandstream "127.0.0.1:$PORT"
! grep -q "gs-s3cret\|s3cret" "$WORK/pnp.log" || pp_fail "a password reached the log"

# 3b. Hostile senders (issue 23): answers go to the datagram's source only, never to an
# address named in it; until a source has answered a NOTIFY it gets at most twice the
# bytes it sent; a flood from one source takes neither another's NOTIFY nor the log.
cat > "$WORK/hostile.py" <<'PY'
import re, socket, sys, time

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

mode, port, url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
host = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
srv = (host, port)

def sock(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    return s

def docs_subscribe(addr, lport, call, mac="000B82273B89", via=None):
    # The Grandstream GXP1628's SUBSCRIBE of docs/sip-pnp.md, addresses ours.
    via = via or "SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport" % (addr, lport, call)
    return ("SUBSCRIBE sip:MAC%%3A%s@224.0.1.75 SIP/2.0\r\n"
            "Via: %s\r\n"
            "From: <sip:MAC%%3A%s@224.0.1.75>;tag=1398424896\r\n"
            "To: <sip:MAC%%3A%s@224.0.1.75>\r\n"
            "Call-ID: %s-5060-1@%s\r\n"
            "CSeq: 1 SUBSCRIBE\r\n"
            "Contact: <sip:%s:%d>\r\n"
            "User-Agent: Grandstream GXP1628\r\n"
            "Expires: 0\r\n"
            "Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GXP1628\";version=\"\"\r\n"
            "Accept: application/url\r\n"
            "Content-Length: 0\r\n\r\n" % (mac, via, mac, mac, call, addr, addr, lport)).encode()

def small_subscribe(addr, lport, call, mac):
    # As small as a spoofed request gets (the issue's 159 bytes).
    return ("SUBSCRIBE sip:%s@x SIP/2.0\r\nv: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s\r\nf: <sip:x>;tag=a\r\n"
            "t: <sip:x>\r\ni: %s\r\nCSeq: 1 SUBSCRIBE\r\no: ua-profile;vendor=Grandstream\r\n\r\n"
            % (mac, addr, lport, call, call)).encode()

def collect(s, seconds):
    got, end = [], time.time() + seconds
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            got.append(s.recv(65536))
        except socket.timeout:
            break
    return got

def header(msg, name):
    m = re.search(r"^%s:[ \t]*(.*?)\r$" % name, msg, re.M | re.I)
    return m.group(1) if m else None

def answer(s, n):
    ans = ("SIP/2.0 200 OK\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
           "Content-Length: 0\r\n\r\n" % (header(n, "Via"), header(n, "From"), header(n, "To"),
                                          header(n, "Call-ID"), header(n, "CSeq")))
    s.sendto(ans.encode(), srv)

def phone(addr, within):
    # The docs' phone: 200 OK then NOTIFY with the URL, within `within` seconds.
    s = sock(addr)
    req = docs_subscribe(addr, s.getsockname()[1], "ph%d" % int(time.time() * 1000))
    start = time.time()
    s.sendto(req, srv)
    ok = notify = None
    resend = start + 0.5  # Timer E, as phones do until the 200 OK (RFC 3261 17.1.2.2)
    while notify is None:
        now = time.time()
        if now >= start + within:
            fail("the phone at %s got %s within %.1f s" % (addr, "no 200 OK" if ok is None else "no NOTIFY", within))
        if ok is None and now >= resend:
            s.sendto(req, srv)
            resend = now + 0.5
        s.settimeout(min(resend, start + within) - now if ok is None else start + within - now)
        try:
            m = s.recv(65536).decode("latin-1")
        except socket.timeout:
            continue
        if m.startswith("SIP/2.0 200"):
            ok = m
        elif m.startswith("NOTIFY "):
            notify = m
    if notify.split("\r\n\r\n", 1)[1] != url:
        fail("NOTIFY body %r" % notify)
    answer(s, notify)
    return len(req), len(ok), len(notify), time.time() - start

if mode == "reflect":
    # received= and a Via port naming another socket (the victim), no rport.
    victim = sock("127.0.0.1")
    s = sock("127.0.0.1")
    via = "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKrefl;received=127.0.0.1" % victim.getsockname()[1]
    s.sendto(docs_subscribe("127.0.0.1", victim.getsockname()[1], "refl", via=via), srv)
    at_victim = collect(victim, 1.5)
    if at_victim:
        fail("%d datagrams went to the address the request named" % len(at_victim))
    at_source = [m.decode("latin-1") for m in collect(s, 0.5)]
    oks = [m for m in at_source if m.startswith("SIP/2.0 200")]
    if not oks:
        fail("no 200 OK at the source: %r" % at_source)
    top = header(oks[0], "Via")
    if ";received=127.0.0.1" not in top:
        fail("top Via %r" % top)
    print("reflect: ok")
elif mode == "amplify":
    # A spoofed-looking source that never answers: at most twice its bytes back.
    s = sock(host if host != "127.0.0.1" else "127.0.0.3")
    req = small_subscribe(s.getsockname()[0], s.getsockname()[1], "amp1", "MAC%3A000B82AA0001")
    s.sendto(req, srv)
    back = collect(s, 5)
    total = sum(len(m) for m in back)
    print("amplify: sent %d bytes, got %d bytes in %d datagrams (%.2fx)"
          % (len(req), total, len(back), total / len(req)))
    if total > 2 * len(req):
        fail("more than twice the bytes sent came back")
    a, b, c, t = phone("127.0.0.4", 3)
    print("docs phone: SUBSCRIBE %d bytes, 200 OK %d, NOTIFY %d (%.2fx), %.3f s" % (a, b, c, (b + c) / a, t))
elif mode == "starve":
    # 1,100 SUBSCRIBEs of different phones from one source, none answered...
    f = sock("127.0.0.5")
    lport = f.getsockname()[1]
    for i in range(1100):
        f.sendto(docs_subscribe("127.0.0.5", lport, "fl%d" % i, mac="000B82%06X" % (0x100000 + i)), srv)
    # ... take no NOTIFY of another source's phone, nor its time.
    a, b, c, t = phone("127.0.0.6", 2)
    print("starve: the phone got its NOTIFY in %.3f s" % t)
PY
timeout 60 python3 "$WORK/hostile.py" reflect "$PORT" "$GS_URL" || pp_fail "answers go where the request says"
timeout 60 python3 "$WORK/hostile.py" amplify "$PORT" "$GS_URL" || pp_fail "amplification"
timeout 60 python3 "$WORK/hostile.py" starve "$PORT" "$GS_URL" || pp_fail "a flood starves another phone"
grep -q "more than 5 a second from 127.0.0.5" "$WORK/pnp.log" || pp_fail "no log line for the flood's rate limit"
[ "$(grep -c "SUBSCRIBE of .* from 127.0.0.5" "$WORK/pnp.log")" -le 40 ] \
    || pp_fail "the flood's SUBSCRIBEs are logged without limit"
grep -q "NOTIFY not sent (budget: twice the bytes received)" "$WORK/pnp.log" \
    || pp_fail "the log does not say the NOTIFY was not sent"

# 4. --once: answers one phone, finishes its NOTIFY transaction, exits 0.
PORT1=$(pp_free_port $((PORT + 1)))
pp_start_pnp "$WORK/pnp-once.log" --listen 127.0.0.1 --port "$PORT1" --no-multicast --once
pp_wait_port udp "$PORT1"
sipp_uac pnp_yealink "127.0.0.1:$PORT1"
for _ in $(seq 50); do kill -0 "$PNP_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PNP_PID" 2>/dev/null && pp_fail "--once did not exit"
wait "$PNP_PID" || pp_fail "--once exited with $?"

# 5. Multicast: in a network namespace of our own, the responder joins 224.0.1.75 on lo
# and answers a SUBSCRIBE sent to the group on the default port 5060; first with one
# socket on 0.0.0.0, then with --listen 127.0.0.1 (a second socket bound to the group).
if ip netns add "ppt-$$" 2>/dev/null; then
    NS="ppt-$$"
    ip -n "$NS" link set lo up
    ip -n "$NS" link set lo multicast on
    ip -n "$NS" route add 224.0.0.0/4 dev lo
    for listen in 0.0.0.0 127.0.0.1; do
        log="$WORK/pnp-mcast-$listen.log"
        ip netns exec "$NS" "$PHONEPROV" pnp --config "$WORK/kea.json" --listen "$listen" \
            --interface lo --verbose > "$log" 2>&1 &
        PNP_PID=$!
        PIDS+=($PNP_PID)
        for _ in $(seq 100); do
            ip netns exec "$NS" ss -Hlnu "sport = :5060" | grep -q . && break
            sleep 0.1
        done
        grep -q "group 224.0.1.75 joined on lo" "$log" || { cat "$log" >&2; pp_fail "no join on lo"; }
        sipp_uac pnp_grandstream "224.0.1.75:5060" "$NS"
        [ "$(grep -c "SUBSCRIBE of 00:0b:82:27:3b:89" "$log")" = 1 ] \
            || { cat "$log" >&2; pp_fail "multicast SUBSCRIBE not answered exactly once ($listen)"; }
        kill "$PNP_PID"
        wait "$PNP_PID" || pp_fail "the responder did not stop cleanly on SIGTERM"
    done
    # No answer to a source outside the networks of the interfaces served: the
    # responder serves v0 (10.9.0.0/24); v1 (10.8.0.0/24) is another network.
    ip -n "$NS" link add v0 type veth peer name v1
    ip -n "$NS" addr add 10.9.0.1/24 dev v0
    ip -n "$NS" addr add 10.8.0.1/24 dev v1
    ip -n "$NS" link set v0 up
    ip -n "$NS" link set v1 up
    log="$WORK/pnp-subnet.log"
    ip netns exec "$NS" "$PHONEPROV" pnp --config "$WORK/kea.json" --listen 10.9.0.1 --port 5070 \
        --interface v0 --verbose > "$log" 2>&1 &
    PNP_PID=$!
    PIDS+=($PNP_PID)
    for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
    cat > "$WORK/subnet.py" <<'PY'
import socket, sys
src, expect = sys.argv[1], sys.argv[2] == "answer"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
p = s.getsockname()[1]
mac = "MAC%3A000B82273B89"
req = ("SUBSCRIBE sip:%s@224.0.1.75 SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bKsn%d;rport\r\n"
       "From: <sip:%s@224.0.1.75>;tag=1\r\nTo: <sip:%s@224.0.1.75>\r\nCall-ID: sn%d\r\n"
       "CSeq: 1 SUBSCRIBE\r\nContact: <sip:%s:%d>\r\n"
       "Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GXP1628\"\r\n"
       "Accept: application/url\r\nContent-Length: 0\r\n\r\n" % (mac, src, p, p, mac, mac, p, src, p))
s.sendto(req.encode(), ("10.9.0.1", 5070))
s.settimeout(1.5)
try:
    got = s.recv(65536).decode("latin-1")
except socket.timeout:
    got = None
if expect != (got is not None and got.startswith("SIP/2.0 200")):
    print("FAIL: from %s: %r" % (src, got), file=sys.stderr)
    sys.exit(1)
PY
    ip netns exec "$NS" python3 "$WORK/subnet.py" 10.9.0.1 answer || pp_fail "no answer on the served network"
    ip netns exec "$NS" python3 "$WORK/subnet.py" 127.0.0.1 answer || pp_fail "no answer on loopback"
    ip netns exec "$NS" python3 "$WORK/subnet.py" 10.8.0.1 silent || pp_fail "an answer to another network"
    grep -q "from 10.8.0.1:[0-9]*: not on the network of an interface served" "$log" \
        || { cat "$log" >&2; pp_fail "no log line for a source off the networks served"; }
    kill "$PNP_PID"
    wait "$PNP_PID" || true
    ip netns del "$NS"
    NS=""
else
    pp_log "SKIP multicast: cannot create a network namespace here (unicast tested only)"
fi
echo "PASS: SIP PnP (Grandstream, Yealink, Snom, compact and folded forms, garbage, multicast)"
