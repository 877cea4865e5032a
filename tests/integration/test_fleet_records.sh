#!/usr/bin/env bash
# Issue 24, for real: kea-dhcp4 with the hook's phone records (state-db) and its
# fetch socket, nginx sending each request there (packaging/nginx/fetch-log.conf's
# log_format over syslog). A reserved Yealink boots with `phoneprov simulate` and
# fetches its file: phoneprov-list shows it fetched, with nginx's fetch (address,
# status 200) and one PHONEPROV_PROVISIONED line. Its file fetched from another
# address (127.0.0.2) is logged (WARN) and counted. The record survives kill -9
# and a restart of kea-dhcp4.
source "$(dirname "$0")/lib.sh"
pp_setup

YL=00:15:65:aa:bb:cc
FILE_URL_PATH=prov/yealink/001565aabbcc.cfg

# Records and fetches are what is tested here: files at their MAC names (device-tokens
# off); token folders have test_credential_attack.
HTTP=$(pp_free_port 18480)
pp_records_config "$HTTP"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }

DHCP=$(pp_free_port 12867)
pp_start_kea "$WORK/kea.json" "$DHCP"
[ -S "$FETCH_SOCK" ] || pp_fail "no fetch socket at $FETCH_SOCK"
[ "$(stat -c '%a %G' "$FETCH_SOCK")" = "660 $PP_GROUP" ] || pp_fail "fetch socket mode/group $(stat -c '%a %G' "$FETCH_SOCK")"
pp_start_nginx "$HTTP" "$FETCH_SOCK"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish"

ctl() { pp_sock "$SOCK" "$1" 20; }
get_phone() { ctl "{\"command\": \"phoneprov-get\", \"arguments\": {\"mac\": \"$YL\"}}"; }
phone_state() { [ "$(get_phone | jq -r '.arguments.state')" = "$1" ]; }

# Before it boots: rendered in the background (render-reserved), never seen by DHCP.
phone_state rendered || pp_fail "before boot: $(get_phone)"

pp_simulate --mac "$YL" --vendor-class "yealink T46S 66.86.0.15" --file '{mac}.cfg' --json \
    --output "$WORK/fetched.cfg" > "$WORK/sim.json" || pp_fail "simulate of the reserved phone"
# The reservation gives the phone 127.0.0.1, where simulate fetches from, as a
# phone fetches from its leased address.
LEASE=$(jq -r '.assigned' "$WORK/sim.json")
[ "$LEASE" = 127.0.0.1 ] || pp_fail "the phone leased $LEASE, not its reserved 127.0.0.1"
pp_wait_until 10 phone_state fetched || pp_fail "not fetched: $(get_phone)"

list=$(ctl '{"command": "phoneprov-list", "arguments": {"state": "fetched", "vendor": "yealink"}}')
printf '%s' "$list" | jq -e --arg mac "$YL" --arg ip "$LEASE" '
    .result == 0 and .arguments.total == 1 and .arguments.persistent == true
    and .arguments.phones[0].mac == $mac and .arguments.phones[0].address == $ip
    and .arguments.phones[0]["identified-by"] == "option-60"
    and .arguments.phones[0].reserved == true' > /dev/null || pp_fail "phoneprov-list: $list"
phone=$(get_phone)
SIZE=$(stat -c %s "$OUT/yealink/001565aabbcc.cfg")
printf '%s' "$phone" | jq -e --arg ip "$LEASE" --argjson size "$SIZE" '
    (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].protocol == "http"
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address == $ip
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].status == 200
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].bytes == $size' > /dev/null || pp_fail "phoneprov-get: $phone"

# Phones by state: phoneprov-status and the statistics (gauges) agree.
ctl '{"command": "phoneprov-status"}' | jq -e '.arguments.phones.fetched == 1 and (.arguments.phones.seen // 0) == 0' > /dev/null \
    || pp_fail "phoneprov-status phones: $(ctl '{"command": "phoneprov-status"}' | jq -c .arguments.phones)"
ctl '{"command": "statistic-get-all"}' | jq -e '.arguments["phoneprov.phones.fetched"][0][0] == 1
    and .arguments["phoneprov.phones.rendered"][0][0] == 0 and .arguments["phoneprov.phones.failed"][0][0] == 0' > /dev/null \
    || pp_fail "statistics phoneprov.phones.*: $(ctl '{"command": "statistic-get-all"}' | jq -c '.arguments | with_entries(select(.key | startswith("phoneprov.phones.")))')"

# For Prometheus (node_exporter's textfile collector): the same figures, a file written whole.
"$PHONEPROV" metrics --config "$WORK/kea.json" --output "$WORK/phoneprov.prom" || pp_fail "phoneprov metrics exit $?"
grep -qx 'phoneprov_phones{state="fetched"} 1' "$WORK/phoneprov.prom" \
    && grep -Eqx 'phoneprov_renders_total\{vendor="yealink"\} [1-9][0-9]*' "$WORK/phoneprov.prom" \
    && grep -qx '# TYPE phoneprov_renders_total counter' "$WORK/phoneprov.prom" \
    || pp_fail "phoneprov metrics: $(cat "$WORK/phoneprov.prom")"
# Every line is a comment or a sample of the text exposition format; no Kea statistic.
! grep -Ev '^(# (HELP|TYPE) phoneprov_[a-z_]+ .+|phoneprov_[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9]+)$' "$WORK/phoneprov.prom" \
    || pp_fail "phoneprov metrics: a line out of format"
[ "$(stat -c %a "$WORK/phoneprov.prom")" = 644 ] && ! ls "$WORK"/phoneprov.prom.tmp.* 2>/dev/null || pp_fail "phoneprov metrics --output: mode or temp file"

# The same from the command line (`phoneprov list` and `get` ask the running server):
# a table for people, --json for scripts, the socket found from the Kea configuration.
"$PHONEPROV" list --config "$WORK/kea.json" --state fetched > "$WORK/list.txt" || pp_fail "phoneprov list exit $?"
head -1 "$WORK/list.txt" | grep -Eq '^MAC +VENDOR +MODEL +ADDRESS +STATE +LAST DHCP +LAST FETCH$' \
    || pp_fail "phoneprov list header: $(cat "$WORK/list.txt")"
grep -Eq "^$YL +yealink +T46S +$LEASE +fetched +20[0-9-]+ [0-9:]+ \([^)]* ago\) +20" "$WORK/list.txt" \
    || pp_fail "phoneprov list row: $(cat "$WORK/list.txt")"
grep -qx '1 of 1 phones' "$WORK/list.txt" || pp_fail "phoneprov list footer: $(cat "$WORK/list.txt")"
[ "$("$PHONEPROV" list --control-socket "$SOCK" --state failed)" = "no phone matches" ] || pp_fail "phoneprov list --state failed"
"$PHONEPROV" list --control-socket "$SOCK" --vendor yealink --json | jq -e --arg mac "$YL" \
    '.total == 1 and .phones[0].mac == $mac and .phones[0].state == "fetched"' > /dev/null \
    || pp_fail "phoneprov list --json"
"$PHONEPROV" get "$YL" --control-socket "$SOCK" > "$WORK/get.txt" || pp_fail "phoneprov get exit $?"
grep -Eq "^state +fetched$" "$WORK/get.txt" && grep -Eq "^address +$LEASE$" "$WORK/get.txt" \
    && grep -Eq "^yealink/001565aabbcc.cfg +20[0-9-]+ [0-9:]+ \([^)]* ago\) +http +$LEASE +200 +$SIZE +yes$" "$WORK/get.txt" \
    || pp_fail "phoneprov get: $(cat "$WORK/get.txt")"
! grep -q s3cret "$WORK/get.txt" "$WORK/list.txt" || pp_fail "a password in phoneprov get/list"
"$PHONEPROV" get "$YL" --control-socket "$SOCK" --json | jq -e '.state == "fetched"' > /dev/null || pp_fail "phoneprov get --json"
rc=0; "$PHONEPROV" get 00:15:65:00:00:01 --control-socket "$SOCK" 2> "$WORK/get-none.err" || rc=$?
[ "$rc" = 3 ] && grep -q "no record of 00:15:65:00:00:01" "$WORK/get-none.err" || pp_fail "phoneprov get of an unknown MAC: exit $rc"
rc=0; "$PHONEPROV" list --control-socket "$WORK/no-such-socket" 2> "$WORK/list-none.err" || rc=$?
[ "$rc" = 2 ] && grep -q "cannot connect to kea-dhcp4's control socket" "$WORK/list-none.err" \
    || pp_fail "phoneprov list without a server: exit $rc, $(cat "$WORK/list-none.err")"
pp_wait_log "PHONEPROV_PROVISIONED phoneprov: phone $YL \(yealink T46S\) at $LEASE fetched yealink/001565aabbcc.cfg, [0-9.]+ seconds after its ACK" \
    "$WORK/kea.log" 10 || pp_fail "no PHONEPROV_PROVISIONED line"
[ "$(grep -c PHONEPROV_PROVISIONED "$WORK/kea.log")" = 1 ] || pp_fail "more than one PHONEPROV_PROVISIONED line"
! grep phoneprov-hooks "$WORK/kea.log" | grep -q s3cret || pp_fail "a password in our log lines"
! grep -a -q s3cret "$DB" "$DB-wal" 2>/dev/null || pp_fail "a password in the state database"

# Someone else reads the phone's file: a WARN naming both addresses, and the statistic.
curl -s -o /dev/null --interface 127.0.0.2 "http://127.0.0.1:$HTTP/$FILE_URL_PATH" || pp_fail "curl from 127.0.0.2"
pp_wait_log "WARN .*PHONEPROV_FETCH_FOREIGN phoneprov: 127.0.0.2 fetched yealink/001565aabbcc.cfg, the file of phone $YL whose lease is $LEASE" \
    "$WORK/kea.log" 10 || pp_fail "no PHONEPROV_FETCH_FOREIGN warning"
stat=$(ctl '{"command": "statistic-get", "arguments": {"name": "phoneprov.fetch-foreign-address"}}')
[ "$(printf '%s' "$stat" | jq '.arguments["phoneprov.fetch-foreign-address"][0][0]')" = 1 ] \
    || pp_fail "statistic: $stat"
phone_state fetched || pp_fail "a foreign fetch changed the state: $(get_phone)"
[ "$(get_phone | jq -r '(.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address')" = 127.0.0.2 ] \
    || pp_fail "the last fetch is not the foreign one: $(get_phone)"

# A phone known only by its vendor class (a MAC prefix of no phone vendor), without
# reservation: after the restart, its record still makes it a Yealink for the commands
# that name its MAC alone (issue 24: phoneprov-render used to call it "not a phone").
OTHER=00:1b:21:aa:bb:01
pp_simulate --mac "$OTHER" --vendor-class "yealink T46S 66.86.0.15" --no-fetch > /dev/null \
    || pp_fail "simulate of the phone without reservation"
pp_wait_until 10 eval '[ "$(ctl "{\"command\": \"phoneprov-get\", \"arguments\": {\"mac\": \"$OTHER\"}}" | jq -r .arguments.vendor)" = yealink ]' \
    || pp_fail "no record of $OTHER"

# A crash and a restart: the record is read back from state-db; the start-up render of the
# reserved phone uses the model its vendor class named (kept in the record), so its
# file stays as the phone fetched it ("fetched", not "fetched-stale").
# kill -9: what phoneprov-get showed was committed (the command waits for the
# writer), and WAL keeps a commit across a crash of the process.
kill -9 "$KEA_PID"
for _ in $(seq 100); do kill -0 "$KEA_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$KEA_PID" 2>/dev/null || pp_fail "kea-dhcp4 did not stop"
mv "$WORK/kea.log" "$WORK/kea-1.log"
pp_start_kea "$WORK/kea.json" "$DHCP"
pp_wait_log "PHONEPROV_RECORDS_LOADED phoneprov loaded 2 phone records from $DB" "$WORK/kea.log" 10 \
    || pp_fail "records not loaded after the restart"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish after the restart"
phone=$(get_phone)
printf '%s' "$phone" | jq -e --arg ip "$LEASE" '
    .arguments.state == "fetched" and .arguments.address == $ip and .arguments.model == "T46S"
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address == "127.0.0.2"
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].status == 200' > /dev/null \
    || pp_fail "after the restart: $phone"
ident=$(ctl "{\"command\": \"phoneprov-identify\", \"arguments\": {\"mac\": \"$OTHER\"}}")
printf '%s' "$ident" | jq -e '.result == 0 and .arguments.phone == true and .arguments.vendor == "yealink"
    and .arguments["from-record"] == true' > /dev/null || pp_fail "phoneprov-identify after the restart: $ident"
# Without its record it is no phone: the record is what says so.
ident=$(ctl '{"command": "phoneprov-identify", "arguments": {"mac": "00:1b:21:aa:bb:02"}}')
printf '%s' "$ident" | jq -e '.arguments.phone == false' > /dev/null || pp_fail "an unknown MAC of that prefix: $ident"
rend=$(ctl "{\"command\": \"phoneprov-render\", \"arguments\": {\"mac\": \"$OTHER\"}}")
printf '%s' "$rend" | jq -e '.result == 0 and .arguments.queued == 1' > /dev/null || pp_fail "phoneprov-render after the restart: $rend"
rend=$(ctl '{"command": "phoneprov-render", "arguments": {"all": true}}')
printf '%s' "$rend" | jq -e --arg m "$OTHER" '.result == 0 and .arguments.queued >= 2 and (.arguments.skipped | has($m) | not)' > /dev/null \
    || pp_fail "phoneprov-render all after the restart: $rend"
pp_await_idle "$SOCK" 30 || pp_fail "the renders did not finish"

# nginx's syslog socket still points at the socket of the stopped kea-dhcp4: its
# first send fails and nginx reconnects for the next one. Fetches after the restart
# are recorded from then on.
fetched_again() {
    curl -s -o /dev/null "http://127.0.0.1:$HTTP/$FILE_URL_PATH"
    [ "$(get_phone | jq -r '(.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address')" = 127.0.0.1 ]
}
pp_wait_until 10 fetched_again || pp_fail "no fetch recorded after the restart: $(get_phone)"
echo "PASS: fleet records (HTTP $HTTP, DHCP $DHCP)"
