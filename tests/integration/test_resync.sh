#!/usr/bin/env bash
# Remote re-sync for real (phoneprov resync): kea-dhcp4 with the hook and
# libdhcp_lease_cmds.so leases addresses to simulated phones; sipp plays each phone
# (a UAS on its leased address) and checks the vendor's re-sync NOTIFY: Yealink
# `check-sync;reboot=false`, Grandstream `resync`, Cisco `service-control` with
# `action=restart`. Leases come from the control socket, from the lease file, and from
# what the Kea config names; the choice of lease is checked on a lease file written by
# hand; a phone that does not answer, or refuses, makes the command fail.
source "$(dirname "$0")/lib.sh"
pp_setup
command -v sipp >/dev/null || pp_fail "sipp is not installed (Debian package sip-tester)"
SIPP_DIR="$SOURCE_DIR/tests/integration/sipp"
LEASE_CMDS=${LEASE_CMDS:-/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so}
[ -f "$LEASE_CMDS" ] || pp_fail "no $LEASE_CMDS (Debian package kea-common)"

# The quick start's config, with leases kept in a file, a control socket with
# lease_cmds, a Cisco desk phone pinned by its reservation and a Grandstream with phone
# data in its reservation (their MAC prefixes alone do not make a device a phone).
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/quickstart.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR"
jq --arg work "$WORK" --arg lc "$LEASE_CMDS" '
    .Dhcp4["lease-database"] = {"type": "memfile", "persist": true, "lfc-interval": 0,
                                "name": ($work + "/leases4.csv")}
  | .Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": ($work + "/kea4-ctrl.sock")}
  | .Dhcp4["hooks-libraries"] += [{"library": $lc}]
  | .Dhcp4.subnet4[0].reservations += [{"hw-address": "00:1e:4a:00:00:09", "hostname": "cisco-desk",
        "user-context": {"phoneprov": {"vendor": "cisco"}}},
      {"hw-address": "00:0b:82:27:3b:89", "hostname": "lobby", "user-context": {"phoneprov":
        {"sip-server": "127.0.0.1", "accounts": [{"user": "2001", "password": "x"}]}}}]' \
    "$WORK/quickstart.json" > "$WORK/kea.json"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }
DHCP=$(pp_free_port 12467)
pp_start_kea "$WORK/kea.json" "$DHCP"
SOCK="$WORK/kea4-ctrl.sock"

lease() {  # MAC VENDOR-CLASS: the address Kea leased
    local ip
    ip=$(pp_simulate --mac "$1" --vendor-class "$2" --no-fetch --json | jq -r .assigned)
    case "$ip" in 127.*) echo "$ip";; *) pp_fail "$1 got no lease ('$ip')";; esac
}
YL_MAC=00:15:65:aa:bb:cc; YL_IP=$(lease "$YL_MAC" yealink)
GS_MAC=00:0b:82:27:3b:89; GS_IP=$(lease "$GS_MAC" "Grandstream GXP1628 dslforum.org")
CS_MAC=00:1e:4a:00:00:09; CS_IP=$(lease "$CS_MAC" "Cisco Systems, Inc. IP Phone CP-7961G")
PC_MAC=3c:22:fb:01:02:03; PC_IP=$(lease "$PC_MAC" "MSFT 5.0")
grep -q "$YL_IP,00:15:65:aa:bb:cc" "$WORK/leases4.csv" || pp_fail "Kea wrote no lease file"

# uas NAME IP PORT EVENT-RE BODY-RE [STATUS]: a phone on IP:PORT that expects one NOTIFY.
uas() {
    local name=$1 ip=$2 port=$3
    python3 - "$SIPP_DIR/resync_uas.xml" "$WORK/$name.xml" "$4" "$5" "${6:-200 OK}" <<'PY'
import sys
src, dst, event, body, status = sys.argv[1:6]
text = open(src).read().replace("@EVENT_RE@", event).replace("@BODY_RE@", body)
open(dst, "w").write(text.replace("@STATUS@", status))
PY
    timeout 40 sipp -sf "$WORK/$name.xml" -m 1 -i "$ip" -p "$port" -timeout 30s -timeout_error \
        -nostdin -trace_err -error_file "$WORK/$name.err" -trace_logs -log_file "$WORK/$name.actions" \
        > "$WORK/$name.out" 2>&1 &
    UAS_PID=$!
    PIDS+=($UAS_PID)
    for _ in $(seq 100); do
        ss -Hlnu "src $ip and sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    pp_fail "sipp UAS $name did not start on $ip:$port"
}
# uas_done PID NAME: the UAS saw what it expected.
uas_done() {
    wait "$1" || { cat "$WORK/$2.err" "$WORK/$2.out" >&2 || true; pp_fail "sipp UAS $2 failed"; }
}
resync() {
    timeout 60 "$PHONEPROV" resync --config "$WORK/kea.json" --timeout 5000 "$@"
}
PORT=$(pp_free_port 15260)
NOBODY='^$'
RESTART='^action=restart'

# 1. One phone, its lease from the control socket (lease4-get-by-hw-address).
uas yealink "$YL_IP" "$PORT" 'check-sync;reboot=false' "$NOBODY"
resync --mac "$YL_MAC" --control-socket "$SOCK" --port "$PORT" > "$WORK/r1.out" \
    || { cat "$WORK/r1.out"; pp_fail "resync of the Yealink (control socket)"; }
uas_done "$UAS_PID" yealink
grep -qxF "$YL_MAC yealink $YL_IP:$PORT check-sync;reboot=false: 200 OK" "$WORK/r1.out" \
    || pp_fail "output: $(cat "$WORK/r1.out")"

# 2. Its lease from the lease file.
uas grandstream "$GS_IP" "$PORT" 'resync' "$NOBODY"
resync --mac "$GS_MAC" --lease-file "$WORK/leases4.csv" --port "$PORT" > "$WORK/r2.out" \
    || { cat "$WORK/r2.out"; pp_fail "resync of the Grandstream (lease file)"; }
uas_done "$UAS_PID" grandstream

# 3. Where the Kea config says (its control socket, since it loads lease_cmds); Cisco.
uas cisco "$CS_IP" "$PORT" 'service-control' "$RESTART"
resync --mac "$CS_MAC" --port "$PORT" > "$WORK/r3.out" \
    || { cat "$WORK/r3.out"; pp_fail "resync of the Cisco (pinned by its reservation)"; }
uas_done "$UAS_PID" cisco

# 4. --all: every leased phone at once (the laptop is skipped), from the lease file.
uas all-yl "$YL_IP" "$PORT" 'check-sync;reboot=false' "$NOBODY"; P1=$UAS_PID
uas all-gs "$GS_IP" "$PORT" 'resync' "$NOBODY"; P2=$UAS_PID
uas all-cs "$CS_IP" "$PORT" 'service-control' "$RESTART"; P3=$UAS_PID
resync --all --lease-file "$WORK/leases4.csv" --port "$PORT" > "$WORK/r4.out" 2> "$WORK/r4.err" \
    || { cat "$WORK/r4.out" "$WORK/r4.err"; pp_fail "resync --all"; }
uas_done "$P1" all-yl; uas_done "$P2" all-gs; uas_done "$P3" all-cs
[ "$(grep -c ': 200 OK$' "$WORK/r4.out")" = 3 ] || pp_fail "resync --all: $(cat "$WORK/r4.out")"
grep -q "3 of 3 phones answered 2xx; 1 leases skipped" "$WORK/r4.err" || pp_fail "$(cat "$WORK/r4.err")"
! grep -q "$PC_MAC" "$WORK/r4.out" || pp_fail "the laptop got a NOTIFY"

# 5. --all through the control socket (lease4-get-all), as a dry run.
resync --all --control-socket "$SOCK" --dry-run > "$WORK/r5.out" || pp_fail "dry run"
[ "$(grep -c 'not sent (--dry-run)' "$WORK/r5.out")" = 3 ] || pp_fail "dry run: $(cat "$WORK/r5.out")"

# 6. A phone that refuses, a phone that is not there, a device that is no phone.
uas busy "$YL_IP" "$PORT" 'check-sync;reboot=false' "$NOBODY" "486 Busy Here"
rc=0; resync --mac "$YL_MAC" --lease-file "$WORK/leases4.csv" --port "$PORT" > "$WORK/r6.out" || rc=$?
uas_done "$UAS_PID" busy
[ "$rc" = 3 ] && grep -q ": 486 Busy Here$" "$WORK/r6.out" || pp_fail "a refusal gave $rc: $(cat "$WORK/r6.out")"
GONE=$(pp_free_port $((PORT + 10)))
start=$(date +%s)
rc=0; resync --mac "$YL_MAC" --ip 127.0.0.1 --port "$GONE" --timeout 1500 > "$WORK/r7.out" || rc=$?
[ "$rc" = 3 ] && grep -q "no answer within 1500 ms" "$WORK/r7.out" || pp_fail "silence gave $rc: $(cat "$WORK/r7.out")"
[ $(( $(date +%s) - start )) -le 5 ] || pp_fail "--timeout 1500 took longer than 5 s"
rc=0; resync --mac "$PC_MAC" --lease-file "$WORK/leases4.csv" --port "$PORT" 2> "$WORK/r8.err" || rc=$?
[ "$rc" = 2 ] && grep -q "vendor unknown" "$WORK/r8.err" || pp_fail "a laptop gave $rc: $(cat "$WORK/r8.err")"

# 7. Which lease counts, on a lease file written by hand (Kea 2.2's columns): the newest
# active one; not a declined, expired or deleted one; the files LFC leaves are read first.
now=$(date +%s)
HDR="address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context"
{
    echo "$HDR"
    echo "127.0.0.40,00:15:65:00:00:04,,3600,$((now + 600)),1,0,0,,0,"
    echo "127.0.0.50,00:15:65:00:00:05,,3600,$((now + 900)),1,0,0,,0,"
} > "$WORK/hand.csv.2"
{
    echo "$HDR"
    echo "127.0.0.10,00:15:65:00:00:01,,3600,$((now + 1000)),1,0,0,,0,"
    echo "127.0.0.11,00:15:65:00:00:01,,3600,$((now + 3000)),1,0,0,,0,"
    echo "127.0.0.12,00:15:65:00:00:01,,3600,$((now - 10)),1,0,0,,0,"
    echo "127.0.0.20,00:15:65:00:00:02,,3600,$((now + 3000)),1,0,0,,1,"
    echo "127.0.0.30,00:15:65:00:00:03,,3600,$((now - 5)),1,0,0,,0,"
    echo "127.0.0.40,00:15:65:00:00:04,,0,$((now + 600)),1,0,0,,0,"
    echo "127.0.0.60,00:15:65:00:00:06,,3600,$((now + 900)),1,0,0,phone&#x2cone,0,"
} > "$WORK/hand.csv"
expect_lease() {  # MAC IP-or-none
    local out rc=0
    out=$(resync --mac "$1" --lease-file "$WORK/hand.csv" --dry-run 2>&1) || rc=$?
    if [ "$2" = none ]; then
        [ "$rc" = 2 ] && [[ "$out" == *"no active lease"* ]] || pp_fail "$1: expected no lease, got $rc: $out"
    else
        [ "$out" = "$1 yealink $2:5060 check-sync;reboot=false: not sent (--dry-run)" ] \
            || pp_fail "$1: expected $2, got: $out"
    fi
}
expect_lease 00:15:65:00:00:01 127.0.0.11   # the newest of three
expect_lease 00:15:65:00:00:02 none          # declined
expect_lease 00:15:65:00:00:03 none          # expired
expect_lease 00:15:65:00:00:04 none          # deleted in the newer file
expect_lease 00:15:65:00:00:05 127.0.0.50    # only in the file LFC left
expect_lease 00:15:65:00:00:06 127.0.0.60    # an escaped comma in the hostname
echo "PASS: re-sync NOTIFY to Yealink, Grandstream and Cisco (control socket, lease file, --all)"
