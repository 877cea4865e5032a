#!/usr/bin/env bash
# Issue 21, point 7 (in part): someone on the phones' LAN tries to download reserved
# phones' credentials. The mixed-vendor example (Yealink, Grandstream, Polycom, Cisco,
# Snom, each with an account) on loopback with the real kea-dhcp4, nginx and tftpd-hpa,
# rendered before any phone boots (render-reserved). From 127.0.0.1, with no lease:
#   - every per-device file name any profile defines (every model) for each reserved
#     MAC, under every vendor folder and the root, over HTTP and TFTP;
#   - a prefix enumeration of 2,048 MACs around the reserved Yealink's (yealink/<mac>.cfg)
#     over HTTP, 256 of them over TFTP (nginx's rate limit makes HTTP 50 names a second);
# finds no account password, except Cisco's SEP<MAC>.cnf.xml at the TFTP root, which
# cannot have a per-device folder (lease binding, point 2, is the `lease-binding`
# parameter, still off by default: checked here as the known gap, so that this test
# changes when it is turned on; test_lease_binding attacks the Cisco file with it on). First each reserved
# phone boots with `phoneprov simulate` (the URL from its own ACK) and gets its account:
# every file the attack looks for is then there.
# A spoofed exchange with the Yealink's MAC and Grandstream's option 60 gets no file
# of the Yealink's.
source "$(dirname "$0")/lib.sh"
pp_setup

HTTP=$(pp_free_port 18480); pp_start_nginx "$HTTP"
TFTP=$(pp_free_port 16480); pp_start_tftpd "$TFTP"
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/mixed-vendor.json" \
    "$WORK/kea.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP" --tftp-port "$TFTP" --loopback
DHCP=$(pp_free_port 12480)
pp_start_kea "$WORK/kea.json" "$DHCP"
pp_wait_log "PHONEPROV_RESERVED_DONE" "$WORK/kea.log" 20 || pp_fail "the reserved phones were not rendered"

# The real phones, each fetching the URL its own ACK gave it, get their accounts. (The
# lab's Snom has its own option 66 in its reservation, to another server: not booted.)
declare -A VC=(["00:15:65:30:00:01"]="yealink" ["00:0b:82:30:00:02"]="Grandstream GXP2170 dslforum.org"
               ["00:04:f2:30:00:03"]="PolycomVVX-VVX_450-UA/6.4.0.1")
declare -A FILE=(["00:15:65:30:00:01"]='{mac}.cfg' ["00:0b:82:30:00:02"]='cfg{mac}.xml'
                 ["00:04:f2:30:00:03"]='{mac}-user.cfg')
for mac in "${!VC[@]}"; do
    pp_simulate --mac "$mac" --vendor-class "${VC[$mac]}" --file "${FILE[$mac]}" --json \
        --output "$WORK/got-${mac//:/}" > "$WORK/sim-${mac//:/}.json" || pp_fail "simulate $mac"
    pw=$(jq -r --arg m "$mac" '.Dhcp4.subnet4[].reservations[] | select(.["hw-address"] == $m)
         | .["user-context"].phoneprov.accounts[0].password' "$WORK/kea.json")
    grep -qF -- "$pw" "$WORK/got-${mac//:/}" || pp_fail "$mac did not get its account from its own URL"
    echo "ok: $mac got its account from the URL in its ACK"
done

# The passwords of the reservations: what must never be found.
jq -r '[.. | objects | .password? // empty] | .[]' "$WORK/kea.json" > "$WORK/secrets"
[ "$(wc -l < "$WORK/secrets")" -ge 5 ] || pp_fail "expected the 5 accounts' passwords"
# Every one is on disk (the attack has something to find).
while read -r pw; do
    grep -rqF -- "$pw" "$OUT" || pp_fail "password of a reserved phone not rendered at all"
done < "$WORK/secrets"

python3 - "$PROFILES_DIR" "$WORK" "$HTTP" "$TFTP" <<'PY' || pp_fail "the attack found a credential"
import json, os, socket, struct, sys, time, urllib.request, urllib.error

profiles, work, http, tftp = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
secrets = [l.strip() for l in open(os.path.join(work, "secrets")) if l.strip()]
kea = json.load(open(os.path.join(work, "kea.json")))
reserved = [r["hw-address"] for s in kea["Dhcp4"]["subnet4"] for r in s.get("reservations", [])]

names, dirs = set(), {""}
for vid in sorted(os.listdir(profiles)):
    p = json.load(open(os.path.join(profiles, vid, "profile.json")))
    dirs.add(p.get("dir", ""))
    files = list(p.get("files", []))
    models = [""] + list(p.get("models", {}).keys())
    for m in p.get("models", {}).values():
        files += m.get("files", [])
    for f in files:
        if f.get("per-device"):
            names.add((f["name"], tuple(models)))

def render(name, mac, model):
    m = mac.replace(":", "").lower()
    return (name.replace("{{mac}}", m).replace("{{MAC}}", m.upper())
                .replace("{{mac-colon}}", mac.lower()).replace("{{model}}", model))

def candidates(macs):
    out = set()
    for mac in macs:
        for name, models in names:
            for model in models:
                n = render(name, mac, model)
                if "{{" not in n:
                    for d in dirs:
                        out.add(d + "/" + n if d else n)
    return sorted(out)

def http_get(path):
    url = "http://127.0.0.1:%d/prov/%s" % (http, path)
    for attempt in range(50):
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            if e.code == 503:      # nginx's rate limit: wait, ask again
                time.sleep(0.2)
                continue
            return e.code, b""
    raise SystemExit("HTTP: still rate limited: " + path)

def tftp_get(path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(b"\0\1" + path.encode() + b"\0octet\0", ("127.0.0.1", tftp))
    data = b""
    while True:
        pkt, peer = s.recvfrom(600)
        op, = struct.unpack("!H", pkt[:2])
        if op == 5:
            return "error", b""
        block, = struct.unpack("!H", pkt[2:4])
        data += pkt[4:]
        s.sendto(struct.pack("!HH", 4, block), peer)
        if len(pkt) - 4 < 512:
            return "ok", data

def leaked(body):
    return [x for x in secrets if x.encode() in body]

found = []
# 1. Every defined name for each reserved MAC, over HTTP and TFTP.
targets = candidates(reserved)
for path in targets:
    code, body = http_get(path)
    if leaked(body):
        found.append(("http", path))
    st, body = tftp_get(path)
    if leaked(body):
        found.append(("tftp", path))
print("defined names: %d paths for %d reserved MACs, over HTTP and TFTP" % (len(targets), len(reserved)))
# 2. A prefix enumeration around the reserved Yealink (00:15:65:30:00:01).
yl = [m for m in reserved if m.lower().startswith("00:15:65")][0]
base = int(yl.replace(":", ""), 16) & ~0x7ff
enum = ["%012x" % (base + i) for i in range(2048)]
yealink_names = ["yealink/%s.cfg" % h for h in enum]   # Yealink's own per-device name
for path in yealink_names:
    code, body = http_get(path)
    if leaked(body):
        found.append(("http", path))
tftp_enum = yealink_names[:256]
for path in tftp_enum:
    st, body = tftp_get(path)
    if leaked(body):
        found.append(("tftp", path))
print("enumeration: %d names over HTTP, %d over TFTP" % (len(yealink_names), len(tftp_enum)))
# Cisco's fixed names at the TFTP root are the known gap (no folder possible).
gap = [f for f in found if f[1].startswith("SEP") and f[1].endswith(".cnf.xml")]
rest = [f for f in found if f not in gap]
for f in rest:
    print("FOUND a credential: %s %s" % f)
if not gap:
    print("the Cisco gap is closed: update this test")
    sys.exit(1)
print("known gap (lease binding not done): %s" % ", ".join("%s %s" % g for g in sorted(set(gap))))
sys.exit(1 if rest else 0)
PY

# A spoofed exchange: the Yealink's MAC with Grandstream's option 60.
pp_simulate --mac 00:15:65:30:00:01 --vendor-class "Grandstream GXP2170 dslforum.org" \
    --file 'cfg{mac}.xml' --json > "$WORK/spoof.json" && pp_fail "the spoofed exchange got a file"
pp_wait_log "PHONEPROV_VENDOR_CONFLICT phoneprov: 00:15:65:30:00:01" "$WORK/kea.log" 10 \
    || pp_fail "no PHONEPROV_VENDOR_CONFLICT for the spoofed exchange"
! grep -rlF -- "$(sed -n 1p "$WORK/secrets")" "$OUT/grandstream" || pp_fail "the Yealink's account reached Grandstream's files"
echo "PASS: credential attack (HTTP $HTTP, TFTP $TFTP, DHCP $DHCP)"
