#!/usr/bin/env bash
# Issue 21, point 2: with "lease-binding", a per-device file is served only to the
# address leased to its phone. The mixed-vendor example with the real kea-dhcp4,
# nginx (packaging/nginx/lease-binding.conf) and tftpd-hpa
# (packaging/tftpd-hpa/lease-binding.remap) on loopback:
#   - the reserved Yealink boots with `phoneprov simulate` and fetches from its
#     leased address (127.30.0.11), and gets its account over HTTP; the same path over
#     TFTP from that address works too;
#   - the same path from 127.0.0.1 and from 127.30.0.99 (no lease): 404 over HTTP, a
#     TFTP error; the view's own name (/prov/by-address/127.30.0.11/...) too;
#   - Cisco's SEP<MAC>.cnf.xml at the TFTP root (no folder possible): its phone's
#     address gets it, another address does not;
#   - the Yealink releases its lease: its view is gone, its own address gets 404 too.
source "$(dirname "$0")/lib.sh"
pp_setup
export PP_LEASE_BINDING=1

SOCK="$WORK/kea4.sock"
HTTP=$(pp_free_port 18580); pp_start_nginx "$HTTP"
TFTP=$(pp_free_port 16580); pp_start_tftpd "$TFTP"
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/mixed-vendor.json" \
    "$WORK/mixed.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP" --tftp-port "$TFTP" --loopback > /dev/null
jq --arg sock "$SOCK" '.Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}
    | .Dhcp4["hooks-libraries"][0].parameters["lease-binding"] = true' \
    "$WORK/mixed.json" > "$WORK/kea.json"
DHCP=$(pp_free_port_pair)
pp_start_kea "$WORK/kea.json" "$DHCP"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish"

YL=00:15:65:30:00:01
CS=00:1e:4a:30:00:04
YLPATH="yealink/$(pp_token $YL)/001565300001.cfg"
pw() { jq -r --arg m "$1" '.Dhcp4.subnet4[].reservations[] | select(.["hw-address"] == $m)
         | .["user-context"].phoneprov.accounts[0].password' "$WORK/kea.json"; }
[ -f "$OUT/$YLPATH" ] || pp_fail "not rendered: $YLPATH"
# status FROM PATH: the HTTP status of /prov/PATH asked from address FROM.
status() { curl -s -o "$WORK/body" -w '%{http_code}' --interface "$1" "http://127.0.0.1:$HTTP/prov/$2"; }
# tftp FROM PATH: "ok" and the file in $WORK/tftp.out, or "error".
tftp() {
    python3 - "$1" "$TFTP" "$2" "$WORK/tftp.out" <<'PY'
import socket, struct, sys
src, port, path, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(3)
s.sendto(b"\0\1" + path.encode() + b"\0octet\0", ("127.0.0.1", port))
data = b""
while True:
    pkt, peer = s.recvfrom(600)
    op, = struct.unpack("!H", pkt[:2])
    if op == 5:
        print("error")
        break
    block, = struct.unpack("!H", pkt[2:4])
    data += pkt[4:]
    s.sendto(struct.pack("!HH", 4, block), peer)
    if len(pkt) - 4 < 512:
        open(out, "wb").write(data)
        print("ok")
        break
PY
}

# Before it boots, nobody gets it (no lease, no view).
[ "$(status 127.30.0.11 "$YLPATH")" = 404 ] || pp_fail "served before the phone had a lease"

# The phone boots: its ACK leases 127.30.0.11. Its files were rendered at start-up, so
# its ACK is not held for a render, and the binder thread makes its view just after the
# ACK: a phone asking within milliseconds can find none yet and asks again, as phones
# do (found with a build beside the test: a fetch at once got 404). So the test waits
# for the view, then fetches from the leased address.
pp_simulate --mac "$YL" --vendor-class "yealink T54W 96.86.0.15" --no-fetch --json \
    > "$WORK/sim.json" || pp_fail "simulate: $(cat "$WORK/sim.json")"
[ "$(jq -r .assigned "$WORK/sim.json")" = 127.30.0.11 ] || pp_fail "leased $(jq -r .assigned "$WORK/sim.json")"
_bound() { [ "$(status 127.30.0.11 "$YLPATH")" = 200 ]; }
pp_wait_until 10 _bound || pp_fail "no view for 127.30.0.11"
cp "$WORK/body" "$WORK/got.cfg"
grep -qF -- "$(pw $YL)" "$WORK/got.cfg" || pp_fail "the phone did not get its account from its address"
echo "ok: the phone gets its file from its leased address (HTTP)"
[ "$(tftp 127.30.0.11 "$YLPATH")" = ok ] && grep -qF -- "$(pw $YL)" "$WORK/tftp.out" \
    || pp_fail "TFTP from the leased address"
echo "ok: and over TFTP"

for from in 127.0.0.1 127.30.0.99; do
    [ "$(status $from "$YLPATH")" = 404 ] || pp_fail "HTTP from $from got $YLPATH"
    [ "$(tftp $from "$YLPATH")" = error ] || pp_fail "TFTP from $from got $YLPATH"
    [ "$(status $from "by-address/127.30.0.11/$YLPATH")" = 404 ] || pp_fail "HTTP from $from got the view by name"
    [ "$(tftp $from "by-address/127.30.0.11/$YLPATH")" = error ] || pp_fail "TFTP from $from got the view by name"
done
[ "$(status 127.0.0.1 yealink/y000000000000.cfg)" = 200 ] || pp_fail "a common file is not served to everyone"
echo "ok: another address gets 404 over HTTP and an error over TFTP"

# Cisco: SEP<MAC>.cnf.xml at the TFTP root, bound to 127.30.0.14 once it has its lease.
pp_simulate --mac "$CS" --vendor-class "Cisco Systems, Inc. IP Phone CP-8861" --no-fetch --json \
    > "$WORK/cisco.json" || pp_fail "simulate the Cisco: $(cat "$WORK/cisco.json")"
_cisco() { [ "$(tftp 127.30.0.14 SEP001E4A300004.cnf.xml)" = ok ]; }
pp_wait_until 10 _cisco || pp_fail "the Cisco's own address does not get SEP001E4A300004.cnf.xml"
grep -qF -- "$(pw $CS)" "$WORK/tftp.out" || pp_fail "the Cisco's file has not its account"
[ "$(tftp 127.0.0.1 SEP001E4A300004.cnf.xml)" = error ] || pp_fail "TFTP from 127.0.0.1 got the Cisco's file"
[ "$(tftp 127.30.0.11 SEP001E4A300004.cnf.xml)" = error ] || pp_fail "the Yealink's address got the Cisco's file"
echo "ok: Cisco's fixed name at the TFTP root only to its phone's address"

# The Yealink releases its lease: its view goes.
python3 "$SOURCE_DIR/tests/integration/dhcp_raw.py" release "$DHCP" 001565300001 127.30.0.11
_gone() { [ ! -e "$OUT/by-address/127.30.0.11" ]; }
pp_wait_until 10 _gone || pp_fail "the view of a released lease is still there"
[ "$(status 127.30.0.11 "$YLPATH")" = 404 ] || pp_fail "served after the release"
[ -f "$OUT/$YLPATH" ] || pp_fail "the release removed the file itself"
echo "PASS: lease binding (HTTP $HTTP, TFTP $TFTP, DHCP $DHCP)"
