#!/usr/bin/env bash
# Issue 24, point 2, for TFTP: tftpd-hpa's `--verbose` request lines reach the hook's
# fetch socket through rsyslog with the shipped snippet
# (packaging/rsyslog/tftpd-fetch-log.conf), with the real in.tftpd and rsyslogd. A
# reserved Yealink boots (DHCP only), its file is read over TFTP from its leased
# address: phoneprov-get shows a TFTP fetch from that address, the phone is
# "fetched". The same file read from another address is a foreign fetch.
# in.tftpd logs to /dev/log, which only syslog owns: rsyslogd and in.tftpd run in a
# mount namespace of their own, with a /dev of their own (null, zero, random,
# urandom, and the /dev/log socket rsyslogd makes), so nothing of the machine's
# logging is touched. The network is the machine's loopback.
source "$(dirname "$0")/lib.sh"
pp_setup

YL=00:15:65:aa:bb:cc
HTTP=$(pp_free_port 18680)
pp_records_config "$HTTP"
DHCP=$(pp_free_port 13067)
pp_start_kea "$WORK/kea.json" "$DHCP"
[ -S "$FETCH_SOCK" ] || pp_fail "no fetch socket at $FETCH_SOCK"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish"
ctl() { pp_sock "$SOCK" "$1" 20; }
get_phone() { ctl "{\"command\": \"phoneprov-get\", \"arguments\": {\"mac\": \"$YL\"}}"; }
pp_simulate --mac "$YL" --vendor-class "yealink T46S 66.86.0.15" --no-fetch --quiet || pp_fail "simulate"
[ "$(get_phone | jq -r .arguments.state)" = rendered ] || pp_fail "before the fetch: $(get_phone)"

# rsyslogd: the shipped rule, with this test's socket, and nothing else.
sed "s|/run/kea-phoneprov/fetch.sock|$FETCH_SOCK|" "$SOURCE_DIR/packaging/rsyslog/tftpd-fetch-log.conf" \
    > "$WORK/30-kea-phoneprov-tftpd.conf"
grep -q "$FETCH_SOCK" "$WORK/30-kea-phoneprov-tftpd.conf" || pp_fail "the snippet names no socket to replace"
mkdir -p "$WORK/rsyslog"
cat > "$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rsyslog")
module(load="imuxsock")
\$IncludeConfig $WORK/30-kea-phoneprov-tftpd.conf
*.* stop
CONF
TFTP=$(pp_free_port 16969)
cat > "$WORK/in-ns.sh" <<'NS'
set -euo pipefail
mount --make-rprivate /
mount -t tmpfs -o mode=0755,size=1m phoneprov-dev /dev
mknod -m 0666 /dev/null c 1 3; mknod -m 0666 /dev/zero c 1 5
mknod -m 0444 /dev/random c 1 8; mknod -m 0444 /dev/urandom c 1 9
rsyslogd -n -f "$WORK/rsyslog.conf" -i "$WORK/rsyslog/rsyslogd.pid" > "$WORK/rsyslogd.out" 2>&1 &
RSYSLOG=$!
in.tftpd --foreground --listen --verbose --user tftp --permissive --address "127.0.0.1:$TFTP" \
    --secure "$OUT" > "$WORK/tftpd.out" 2>&1 &
TFTPD=$!
trap 'kill $TFTPD $RSYSLOG 2>/dev/null; wait $TFTPD $RSYSLOG 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S /dev/log ] && break; sleep 0.1; done
[ -S /dev/log ] || { echo "FAIL: rsyslogd made no /dev/log: $(cat "$WORK/rsyslogd.out")"; exit 1; }
for _ in $(seq 100); do ss -Hlnu "sport = :$TFTP" | grep -q . && break; sleep 0.1; done
# The phone, from its leased address; then someone else, from 127.0.0.2.
tftp 127.0.0.1 "$TFTP" -c get yealink/001565aabbcc.cfg "$WORK/tftp-phone.cfg"
cmp -s "$WORK/tftp-phone.cfg" "$OUT/yealink/001565aabbcc.cfg" || { echo "FAIL: TFTP served another file"; exit 1; }
# Wait for the hook to have it before the second fetch: the last fetch is then the foreign one.
for _ in $(seq 100); do [ -e "$WORK/phone-fetched" ] && break; sleep 0.1; done
python3 - "$TFTP" "$WORK/tftp-other.cfg" <<'PY'
# A TFTP read request from 127.0.0.2 (tftp-hpa cannot choose its source address).
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 0))
s.settimeout(5)
s.sendto(b"\x00\x01yealink/001565aabbcc.cfg\x00octet\x00", ("127.0.0.1", int(sys.argv[1])))
data = b""
while True:
    pkt, peer = s.recvfrom(600)
    if pkt[:2] != b"\x00\x03":
        raise SystemExit("FAIL: TFTP error %r" % pkt)
    data += pkt[4:]
    s.sendto(b"\x00\x04" + pkt[2:4], peer)
    if len(pkt) - 4 < 512:
        break
open(sys.argv[2], "wb").write(data)
PY
for _ in $(seq 100); do [ -e "$WORK/other-fetched" ] && break; sleep 0.1; done
NS
# The namespace's script waits for these markers, made when the hook has the fetch.
last_fetch_from() {
    [ "$(get_phone | jq -r '(.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address')" = "$1" ]
}
( pp_wait_until 20 last_fetch_from 127.0.0.1 && touch "$WORK/phone-fetched"
  pp_wait_until 20 last_fetch_from 127.0.0.2 && touch "$WORK/other-fetched" ) &
WAITER=$!
PIDS+=("$WAITER")
DEVLOG_BEFORE=$(stat -c '%i %F' /dev/log 2>/dev/null || echo none)
WORK="$WORK" OUT="$OUT" TFTP="$TFTP" timeout 120 unshare -m bash "$WORK/in-ns.sh" || pp_fail "in the namespace (tftpd: $(cat "$WORK/tftpd.out" 2>/dev/null))"
wait "$WAITER" || true
[ -e "$WORK/phone-fetched" ] || pp_fail "the phone's TFTP fetch was not recorded: $(get_phone); tftpd: $(cat "$WORK/tftpd.out"); rsyslogd: $(cat "$WORK/rsyslogd.out")"
get_phone | jq -e '.arguments.state == "fetched"' > /dev/null || pp_fail "not fetched: $(get_phone)"
[ -e "$WORK/other-fetched" ] || pp_fail "the foreign TFTP fetch was not recorded: $(get_phone)"
cmp -s "$WORK/tftp-other.cfg" "$OUT/yealink/001565aabbcc.cfg" || pp_fail "the second TFTP read"
get_phone | jq -e '(.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"]
    | .protocol == "tftp" and .address == "127.0.0.2"' > /dev/null || pp_fail "the last fetch: $(get_phone)"
pp_wait_log "PHONEPROV_PROVISIONED phoneprov: phone $YL \(yealink T46S\) at 127.0.0.1 fetched yealink/001565aabbcc.cfg" \
    "$WORK/kea.log" 10 || pp_fail "no PHONEPROV_PROVISIONED line for the TFTP fetch"
pp_wait_log "WARN .*PHONEPROV_FETCH_FOREIGN phoneprov: 127.0.0.2 fetched yealink/001565aabbcc.cfg, the file of phone $YL whose lease is 127.0.0.1" \
    "$WORK/kea.log" 10 || pp_fail "no PHONEPROV_FETCH_FOREIGN warning for the TFTP fetch"
# Nothing of the machine's logging was touched.
[ "$(stat -c '%i %F' /dev/log 2>/dev/null || echo none)" = "$DEVLOG_BEFORE" ] || pp_fail "the machine's /dev/log changed"
echo "PASS: TFTP fetches through rsyslog recorded (TFTP $TFTP)"
