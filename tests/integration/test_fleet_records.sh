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

SOCK="$WORK/kea-ctrl.sock"
FETCH_SOCK="$WORK/fetch.sock"
DB="$WORK/state.db"
YL=00:15:65:aa:bb:cc
FILE_URL_PATH=prov/yealink/001565aabbcc.cfg

# Records and fetches are what is tested here: files at their MAC names (device-tokens
# off); token folders have test_credential_attack.
HTTP=$(pp_free_port 18480)
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/quickstart.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" \
    --profiles "$PROFILES_DIR" --http-port "$HTTP"
jq --arg sock "$SOCK" --arg db "$DB" --arg fs "$FETCH_SOCK" '
    .Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}
  | .Dhcp4["hooks-libraries"][0].parameters += {"state-db": $db, "fetch-log-socket": $fs,
                                                  "device-tokens": false}
  | .Dhcp4.subnet4[0].reservations |= map(if .["hw-address"] == "00:15:65:aa:bb:cc"
                                          then . + {"ip-address": "127.0.0.1"} else . end)' \
    "$WORK/quickstart.json" > "$WORK/kea.json"
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
pp_wait_log "PHONEPROV_RECORDS_LOADED phoneprov loaded 1 phone records from $DB" "$WORK/kea.log" 10 \
    || pp_fail "records not loaded after the restart"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish after the restart"
phone=$(get_phone)
printf '%s' "$phone" | jq -e --arg ip "$LEASE" '
    .arguments.state == "fetched" and .arguments.address == $ip and .arguments.model == "T46S"
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address == "127.0.0.2"
    and (.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].status == 200' > /dev/null \
    || pp_fail "after the restart: $phone"
# nginx's syslog socket still points at the socket of the stopped kea-dhcp4: its
# first send fails and nginx reconnects for the next one. Fetches after the restart
# are recorded from then on.
fetched_again() {
    curl -s -o /dev/null "http://127.0.0.1:$HTTP/$FILE_URL_PATH"
    [ "$(get_phone | jq -r '(.arguments.files[] | select(.path == "yealink/001565aabbcc.cfg"))["last-fetch"].address')" = 127.0.0.1 ]
}
pp_wait_until 10 fetched_again || pp_fail "no fetch recorded after the restart: $(get_phone)"
echo "PASS: fleet records (HTTP $HTTP, DHCP $DHCP)"
