#!/usr/bin/env bash
# Fault injection against the real kea-dhcp4 with the hook, on loopback. Faults:
# output-dir replaced by a symlink; output-dir full (a small tmpfs this test mounts
# and unmounts); output-dir read-only (the tmpfs remounted ro: root ignores modes);
# a template missing and a profile (catalogue) file corrupt at a config-reload.
# In each: DHCP keeps answering (with the vendor's options; a broken vendor's phones
# without), the old file stays as it was, the error is logged and counted (statistics
# phoneprov.render-failures, phoneprov.profiles-broken), and rendering recovers once
# the fault is gone (the phone's next request; a reload for a fixed profile).
source "$(dirname "$0")/lib.sh"
pp_setup
HERE=$(cd "$(dirname "$0")" && pwd)
HTTP=18396
MNT=""
cleanup_mount() { if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true; fi; }
trap 'cleanup_mount; pp_cleanup' EXIT

cp -r "$PROFILES_DIR" "$WORK/profiles"
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/base.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$WORK/profiles" \
    --http-port "$HTTP"
SOCK="$WORK/ctrl.sock"
YMAC=001565dd0001
SMAC=000413dd0002
# Per-device folders (device-tokens, the key adapt_kea_config.py wrote).
YTOK=$(pp_token "$YMAC")
STOK=$(pp_token "$SMAC")
F="yealink/$YTOK/$YMAC.cfg"
SF="snom/$STOK/${SMAC^^}.xml"

# setvalue NAME: the reservations' display name becomes NAME (the files change).
# render-reserved off: each fault is set up after a reload and met by the phones' next
# requests (with it on, the reload itself would render before the fault is in place).
setvalue() {
    jq --arg n "$1" --arg sock "$SOCK" '.Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}
      | .Dhcp4["hooks-libraries"][0].parameters["render-reserved"] = false
      | .Dhcp4.subnet4[0].reservations = [
          {"hw-address": "00:15:65:dd:00:01", "hostname": "f1", "user-context": {"phoneprov": {"sip-server": "10.0.0.1",
             "accounts": [{"user": "1001", "password": "pw1", "display-name": $n}]}}},
          {"hw-address": "00:04:13:dd:00:02", "hostname": "f2", "user-context": {"phoneprov": {"sip-server": "10.0.0.1",
             "accounts": [{"user": "1002", "password": "pw2", "display-name": $n}]}}}]' \
        "$WORK/base.json" > "$WORK/kea.json"
    pp_kea_env "$WORK/kea.json"  # the paths Kea 2.6.3 accepts, for config-reload too
}
# ctrl COMMAND: one command (a name, or a whole JSON request) on Kea's control socket;
# prints the response.
ctrl() {
    local req=$1
    [ "${req#\{}" != "$req" ] || req="{\"command\": \"$req\"}"
    pp_sock "$SOCK" "$req" 20
}
reload() { ctrl config-reload | jq -r 'if type == "array" then .[0].result else .result end'; }
failures() {
    ctrl '{"command": "statistic-get", "arguments": {"name": "phoneprov.render-failures"}}' \
        | jq -r '(if type == "array" then .[0] else . end).arguments["phoneprov.render-failures"][0][0] // 0'
}
YURL=$(printf '%s' "http://127.0.0.1:$HTTP/prov/yealink/$YTOK/" | od -An -tx1 | tr -d ' \n')
SURL=$(printf '%s' "http://127.0.0.1:$HTTP/prov/snom/$STOK/" | od -An -tx1 | tr -d ' \n')
cat > "$WORK/cases.json" <<JSON
[{"mac": "$YMAC", "vc": "$(printf yealink | od -An -tx1 | tr -d ' \n')"},
 {"mac": "$SMAC", "vc": "$(printf snomD785 | od -An -tx1 | tr -d ' \n')"}]
JSON
# exchange LABEL [Y66 S66]: both phones get an ACK with their vendor's option 66
# (or the given hex; "null" for none).
exchange() {
    python3 "$HERE/dhcp_raw.py" dora "$DHCP" "$WORK/cases.json" > "$WORK/ex.jsonl"
    [ "$(jq -r 'select(.acked) | .options["66"]' "$WORK/ex.jsonl" | tr '\n' ' ')" = "${2:-$YURL} ${3:-$SURL} " ] \
        || { cat "$WORK/ex.jsonl"; pp_fail "$1: no ACK with the expected option 66"; }
    # The ACK waits for its phone's render (render-wait-ms), but not past that bound:
    # the checks below wait for what they expect rather than sleep.
}
kstat() {
    ctrl '{"command": "statistic-get", "arguments": {"name": "'"$1"'"}}' \
        | jq -r '(if type == "array" then .[0] else . end).arguments["'"$1"'"][0][0] // 0'
}
# has FILE TEXT LABEL: FILE holds TEXT, within 30 s (a render may outlast its ACK's hold).
has() { pp_wait_until 30 grep -q "$2" "$OUT/$1" || pp_fail "$3: $1 does not hold '$2'"; }
expect_fault() {  # LABEL LOGPATTERN BEFORE
    local label=$1 pattern=$2 before=$3 after
    pp_wait_until 30 grep -q "PHONEPROV_RENDER_FAILED.*$pattern" "$WORK/kea.log" || pp_fail "$label: no RENDER_FAILED '$pattern' logged"
    _grown() { [ "$(failures)" -gt "$1" ]; }
    pp_wait_until 30 _grown "$before" || true
    after=$(failures)
    [ "$after" -gt "$before" ] || pp_fail "$label: phoneprov.render-failures did not grow ($before -> $after)"
    echo "ok: $label: DHCP answered with options, old file kept, error logged, render-failures $before -> $after"
}

setvalue Name0
DHCP=$(pp_free_port_pair)
pp_start_kea "$WORK/kea.json" "$DHCP"
exchange "start"
has "$F" Name0 start
has "$SF" Name0 start

# 1. output-dir replaced by a symlink (to a copy): writes are refused.
setvalue Name1; [ "$(reload)" = 0 ] || pp_fail "reload refused"
cp -a "$OUT" "$WORK/out.real"
mv "$OUT" "$WORK/out.moved"
ln -s "$WORK/out.real" "$OUT"
before=$(failures)
exchange "symlink"
has "$F" Name0 symlink   # through the link: the copy is untouched
expect_fault "output-dir is a symlink" "output-dir" "$before"
rm "$OUT"; mv "$WORK/out.moved" "$OUT"
exchange "symlink recovery"
has "$F" Name1 "symlink recovery"
rm -rf "$WORK/out.real"

# 2. output-dir full: a 512 KiB tmpfs mounted over it, filled up.
cp -a "$OUT" "$WORK/out.save"
MNT="$OUT"
mount -t tmpfs -o size=512k,mode=0750 tmpfs "$OUT"
chgrp "$PP_GROUP" "$OUT"
cp -a "$WORK/out.save/." "$OUT/"
setvalue Name2; [ "$(reload)" = 0 ] || pp_fail "reload refused"
dd if=/dev/zero of="$OUT/filler" bs=4k 2>/dev/null || true
before=$(failures)
exchange "disk full"
has "$F" Name1 "disk full"
expect_fault "output-dir full" "No space left" "$before"
[ -z "$(ls -A "$OUT/.phoneprov-tmp" 2>/dev/null)" ] || pp_fail "disk full: temp files left behind"
rm -f "$OUT/filler"
exchange "disk full recovery"
has "$F" Name2 "disk full recovery"

# 3. output-dir read-only (root ignores modes: the mount itself is read-only).
setvalue Name3; [ "$(reload)" = 0 ] || pp_fail "reload refused"
mount -o remount,ro "$OUT"
before=$(failures)
exchange "read-only"
has "$F" Name2 "read-only"
expect_fault "output-dir read-only" "Read-only file system" "$before"
mount -o remount,rw "$OUT"
exchange "read-only recovery"
has "$F" Name3 "read-only recovery"
umount "$OUT"; MNT=""
cp -a "$WORK/out.save/." "$OUT/"   # the tree before the tmpfs, as an admin would restore it

# 4. A template missing at a config-reload. Kea 2.2 exits when a hook library fails
#    to load at a reload (DHCP4_CONFIG_UNRECOVERABLE_ERROR), so the hook leaves the
#    broken vendor out instead: the reload succeeds, the error is logged naming the
#    file and counted (phoneprov.profiles-broken), the other vendors keep their
#    options, that vendor's phones still get leases, their old files stay.
cp "$OUT/$F" "$WORK/yealink.before"
mv "$WORK/profiles/yealink/templates/mac.cfg.mustache" "$WORK/mac.cfg.mustache"
setvalue Name4
[ "$(reload)" = 0 ] || pp_fail "template missing: the reload was refused (Kea 2.2 would stop serving)"
grep "PHONEPROV_CONFIG_ERROR" "$WORK/kea.log" | tail -1 | grep -q "mac.cfg.*(vendor .yealink. left out)" \
    || pp_fail "template missing: no PHONEPROV_CONFIG_ERROR naming the template"
[ "$(kstat phoneprov.profiles-broken)" = 1 ] || pp_fail "template missing: not counted"
exchange "template missing" null "$SURL"
cmp -s "$OUT/$F" "$WORK/yealink.before" || pp_fail "template missing: the Yealink file changed"
grep -q "PHONEPROV_FILES_KEPT phoneprov deleted no stale file at this configuration: 1 vendor profiles were left out" "$WORK/kea.log" \
    || pp_fail "template missing: no PHONEPROV_FILES_KEPT (the manifest's prune must wait for a whole load)"
has "$SF" Name4 "template missing (snom)"
echo "ok: template missing: reload kept DHCP up, logged and counted; snom served, Yealink leased without options, its old file kept"
mv "$WORK/mac.cfg.mustache" "$WORK/profiles/yealink/templates/mac.cfg.mustache"
[ "$(reload)" = 0 ] || pp_fail "reload refused after the template came back"
[ "$(kstat phoneprov.profiles-broken)" = 0 ] || pp_fail "profiles-broken not back to 0"
exchange "template recovery"
has "$F" Name4 "template recovery"

# 5. A corrupt profile file at a config-reload: the same.
cp "$WORK/profiles/snom/profile.json" "$WORK/snom.json"
cp "$OUT/$SF" "$WORK/snom.before"
printf '{"id": "snom", ' > "$WORK/profiles/snom/profile.json"
setvalue Name5
[ "$(reload)" = 0 ] || pp_fail "profile corrupt: the reload was refused (Kea 2.2 would stop serving)"
grep "PHONEPROV_CONFIG_ERROR" "$WORK/kea.log" | tail -1 | grep -q "snom/profile.json.*(vendor .snom. left out)" \
    || pp_fail "profile corrupt: no PHONEPROV_CONFIG_ERROR naming the file"
[ "$(kstat phoneprov.profiles-broken)" = 1 ] || pp_fail "profile corrupt: not counted"
exchange "profile corrupt" "$YURL" null
cmp -s "$OUT/$SF" "$WORK/snom.before" || pp_fail "profile corrupt: the snom file changed"
has "$F" Name5 "profile corrupt (yealink)"
echo "ok: profile corrupt: reload kept DHCP up, logged and counted; Yealink served, snom leased without options, its old file kept"
cp "$WORK/snom.json" "$WORK/profiles/snom/profile.json"
[ "$(reload)" = 0 ] || pp_fail "reload refused after the profile came back"
exchange "profile recovery"
has "$SF" Name5 "profile recovery"
kill -0 "$KEA_PID" || pp_fail "kea-dhcp4 died"
echo "PASS: fault injection"
