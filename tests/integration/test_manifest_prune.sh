#!/usr/bin/env bash
# Issue 21, point 5: the served tree holds only what the current plan produces. The
# mixed-vendor example with the real kea-dhcp4, rendered before any phone boots
# (render-reserved), then changed by config-reload three times:
#   1. the Yealink's reservation removed: its token folder and files are deleted;
#   2. the Polycom's reservation pinned to Yealink (its vendor changed): its Polycom
#      files go, Yealink files of its MAC appear;
#   3. a new site key (phoneprov keygen --force): every phone's old token folder goes,
#      the new one is there.
# Files an admin put in the tree (in a vendor folder, at the top, at a name a phone of
# the vendor would have, a symlink to a file outside) survive every step, and a file
# outside output-dir reached through a symlinked folder is never touched. The count is
# in the log (PHONEPROV_FILES_REMOVED) and in the statistic phoneprov.files-removed.
source "$(dirname "$0")/lib.sh"
pp_setup

SOCK="$WORK/kea4.sock"
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/mixed-vendor.json" \
    "$WORK/mixed.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --loopback > /dev/null
jq --arg sock "$SOCK" '.Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}' \
    "$WORK/mixed.json" > "$WORK/kea.json"
DHCP=$(pp_free_port_pair)
pp_start_kea "$WORK/kea.json" "$DHCP"
pp_wait_log "PHONEPROV_RESERVED_DONE" "$WORK/kea.log" 30 || pp_fail "the reserved phones were not rendered"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish"
ctl() { pp_sock "$SOCK" "$1" 30 | jq -c 'if type == "array" then .[0] else . end'; }

YL=00:15:65:30:00:01
SN=00:04:13:30:00:05
PC=00:04:f2:30:00:03
tok() { pp_token "$1"; }
hex() { echo "${1//:/}"; }
[ -s "$OUT/.phoneprov-state/manifest" ] || [ -s "$OUT/.phoneprov-state/manifest.log" ] \
    || pp_fail "no manifest in $OUT/.phoneprov-state"
[ "$(stat -c %a "$OUT/.phoneprov-state")" = 700 ] || pp_fail "the manifest folder is readable by others"
for mac in $YL $PC $SN; do
    ls "$OUT"/*/"$(tok $mac)"/* > /dev/null 2>&1 || pp_fail "no token folder for $mac"
done
[ -f "$OUT/yealink/$(hex $YL).cfg" ] && pp_fail "a reserved Yealink's file at its MAC name"

# What an admin put there.
echo mine > "$OUT/yealink/admin-own.cfg"
echo mine > "$OUT/admin-top.txt"
echo mine > "$OUT/yealink/001565300099.cfg"          # a name an unreserved Yealink would have
mkdir -p "$WORK/outside"; echo victim > "$WORK/outside/victim.cfg"
ln -s "$WORK/outside/victim.cfg" "$OUT/yealink/link.cfg"
ADMIN=("$OUT/yealink/admin-own.cfg" "$OUT/admin-top.txt" "$OUT/yealink/001565300099.cfg")
admin_intact() {
    local f
    for f in "${ADMIN[@]}"; do
        [ "$(cat "$f" 2>/dev/null)" = mine ] || pp_fail "the admin's $f was touched ($1)"
    done
    [ -L "$OUT/yealink/link.cfg" ] || pp_fail "the admin's symlink was removed ($1)"
    [ "$(cat "$WORK/outside/victim.cfg")" = victim ] || pp_fail "a file outside output-dir was touched ($1)"
}

reload() {  # reload JQ_FILTER WHY: changes kea.json, config-reload, waits for the renders
    local before
    before=$(grep -c "PHONEPROV_CONFIGURED" "$WORK/kea.log" || true)
    jq "$1" "$WORK/kea.json" > "$WORK/kea.next" && mv "$WORK/kea.next" "$WORK/kea.json"
    [ "$(ctl '{"command": "config-reload"}' | jq -r .result)" = 0 ] || pp_fail "config-reload ($2)"
    _configured() { [ "$(grep -c "PHONEPROV_CONFIGURED" "$WORK/kea.log")" -gt "$before" ]; }
    pp_wait_until 30 _configured || pp_fail "no PHONEPROV_CONFIGURED after config-reload ($2)"
    pp_await_idle "$SOCK" 30 || pp_fail "renders did not finish ($2)"
}
removed_stat() {
    ctl '{"command": "statistic-get", "arguments": {"name": "phoneprov.files-removed"}}' \
        | jq -r '.arguments["phoneprov.files-removed"][0][0] // 0'
}

# 1. The Yealink's reservation removed.
YLDIR="$OUT/yealink/$(tok $YL)"
[ -d "$YLDIR" ] || pp_fail "no Yealink token folder before"
reload "(.Dhcp4.subnet4[].reservations) |= map(select(.[\"hw-address\"] != \"$YL\"))" "reservation removed"
[ -e "$YLDIR" ] && pp_fail "the removed reservation's token folder is still there: $(ls "$YLDIR")"
grep -q "PHONEPROV_FILES_REMOVED" "$WORK/kea.log" || pp_fail "no PHONEPROV_FILES_REMOVED"
ls "$OUT"/yealink/y0*.cfg > /dev/null 2>&1 || pp_fail "Yealink's common files went too"
admin_intact "reservation removed"
echo "ok: a removed reservation's files are deleted, the admin's stay"

# 2. The Polycom's vendor changed (its reservation pins Yealink now).
PCDIR="$OUT/polycom/$(tok $PC)"
[ -d "$PCDIR" ] || pp_fail "no Polycom token folder before"
reload "(.Dhcp4.subnet4[].reservations) |= map(if .[\"hw-address\"] == \"$PC\"
        then .[\"user-context\"].phoneprov.vendor = \"yealink\" else . end)" "vendor changed"
[ -e "$PCDIR" ] && pp_fail "the old vendor's files are still there: $(ls "$PCDIR")"
ls "$OUT"/yealink/"$(tok $PC)"/* > /dev/null 2>&1 || pp_fail "no Yealink files for $PC"
ls "$OUT"/polycom/*.cfg > /dev/null 2>&1 || pp_fail "Polycom's common files went too"
admin_intact "vendor changed"
echo "ok: a phone whose vendor changed keeps only its new vendor's files"

# 3. A new site key: every token superseded.
OLD_PC="$OUT/yealink/$(tok $PC)"
OLD_SN="$OUT/snom/$(tok $SN)"
[ -d "$OLD_SN" ] || pp_fail "no Snom token folder before the new key"
"$PHONEPROV" keygen --out "$WORK/site.key" --force > /dev/null
reload '.' "new site key"
for d in "$OLD_PC" "$OLD_SN"; do
    [ -e "$d" ] && pp_fail "a superseded token folder is still there: $d"
done
ls "$OUT"/yealink/"$(tok $PC)"/* > /dev/null 2>&1 || pp_fail "no folder under the new token for $PC"
ls "$OUT"/snom/"$(tok $SN)"/* > /dev/null 2>&1 || pp_fail "no folder under the new token for $SN"
admin_intact "new site key"
echo "ok: superseded token folders are deleted"

n=$(removed_stat)
[ "$n" -ge 3 ] || pp_fail "phoneprov.files-removed is $n"
# Nothing in the tree that the manifest does not list, but the admin's files.
find "$OUT" -path "$OUT/.phoneprov-state" -prune -o \( -type f -o -type l \) -printf '%P\n' | sort > "$WORK/tree"
sed 's/^+ [0-9a-f]* [dt-]* //' "$OUT/.phoneprov-state/manifest" "$OUT/.phoneprov-state/manifest.log" \
    | sort -u > "$WORK/listed"
extra=$(comm -23 "$WORK/tree" "$WORK/listed" | grep -vxE 'yealink/admin-own.cfg|admin-top.txt|yealink/001565300099.cfg|yealink/link.cfg' || true)
[ -z "$extra" ] || pp_fail "files in the tree that the manifest does not list: $extra"
echo "PASS: manifest prune ($n files removed; DHCP $DHCP)"
