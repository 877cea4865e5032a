#!/usr/bin/env bash
# Issue 2's thin path, for real: kea-dhcp4 with the hook and the quick start's
# config, nginx and tftpd-hpa serving the output folder, `phoneprov simulate`
# booting a reserved Yealink and an unknown one. Checks the option bytes, the
# rendered file, and the file served over HTTP and TFTP byte for byte.
source "$(dirname "$0")/lib.sh"
pp_setup

HTTP=$(pp_free_port 18080); pp_start_nginx "$HTTP"
TFTP=$(pp_free_port 16969); pp_start_tftpd "$TFTP"
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/kea.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }
DHCP=$(pp_free_port 12067)
pp_start_kea "$WORK/kea.json" "$DHCP"

# The reserved Yealink: its per-device folder, named by HMAC-SHA-256 of its MAC under
# the site key (adapt_kea_config.py wrote $WORK/site.key), is in its options only.
TOKEN=$(python3 -c 'import hmac, hashlib, sys
print(hmac.new(open(sys.argv[1], "rb").read(), bytes.fromhex("001565aabbcc"), hashlib.sha256).hexdigest()[:32])' \
    "$WORK/site.key")
pp_simulate --mac 00:15:65:aa:bb:cc --vendor-class yealink --file '{mac}.cfg' --json \
    --output "$WORK/fetched.cfg" > "$WORK/sim.json" || pp_fail "simulate of the reserved phone"
URL="http://127.0.0.1:$HTTP/prov/yealink/"
HEX=$(printf '%s' "$URL$TOKEN/" | od -An -tx1 | tr -d ' \n')
for kind in offer-options ack-options; do
    got=$(jq -r --arg k "$kind" '.[$k][] | select(.code == 66) | .hex' "$WORK/sim.json")
    [ "$got" = "$HEX" ] || pp_fail "$kind: option 66 is '$got', expected $HEX ($URL$TOKEN/)"
done
FILE="$OUT/yealink/$TOKEN/001565aabbcc.cfg"
# Nothing at the name computable from the MAC, on disk or over HTTP.
[ ! -e "$OUT/yealink/001565aabbcc.cfg" ] || pp_fail "a per-device file at its MAC-derived name"
code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}001565aabbcc.cfg")
[ "$code" = 404 ] || pp_fail "${URL}001565aabbcc.cfg answered $code"
# The phone reads its common files from its folder too.
[ -f "$OUT/yealink/$TOKEN/y000000000000.cfg" ] || pp_fail "no common file in the phone's folder"
grep -qxF "static.auto_provision.server.url = $URL$TOKEN/" "$OUT/yealink/$TOKEN/y000000000000.cfg" \
    || pp_fail "the common file in the phone's folder does not name the folder"
[ -f "$FILE" ] || pp_fail "no rendered file $FILE"
[ "$(head -1 "$FILE")" = "#!version:1.0.0.1" ] || pp_fail "first line of $FILE"
for line in "account.1.enable = 1" "account.1.user_name = 1001" "account.1.password = s3cret" \
            "account.1.display_name = Alice" "account.1.sip_server.1.address = 127.0.0.1"; do
    grep -qxF "$line" "$FILE" || pp_fail "missing '$line' in $FILE"
done
cmp "$FILE" "$WORK/fetched.cfg" || pp_fail "the file served over HTTP differs from the rendered one"
[ "$(stat -c '%a %G' "$FILE")" = "640 $PP_GROUP" ] || pp_fail "mode/group $(stat -c '%a %G' "$FILE")"

# The same file over TFTP (tftpd-hpa serves the same tree).
tftp 127.0.0.1 "$TFTP" -m binary -c get "yealink/$TOKEN/001565aabbcc.cfg" "$WORK/tftp.cfg"
cmp "$FILE" "$WORK/tftp.cfg" || pp_fail "the file served over TFTP differs"

# nginx refuses temp files, listings, and the folder's listing.
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL$TOKEN/")
[ "$code" = 403 ] || pp_fail "the phone's folder listing answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/prov/.phoneprov-tmp/")
[ "$code" = 403 ] || pp_fail "temp folder answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/prov/yealink/")
[ "$code" = 403 ] || pp_fail "listing answered $code"

# An unknown Yealink: the option, and no file with credentials.
pp_simulate --mac 00:15:65:12:34:56 --vendor-class yealink --file '{mac}.cfg' --json \
    > "$WORK/unknown.json" && pp_fail "the unknown phone got a file"
got=$(jq -r '.["ack-options"][] | select(.code == 66) | .text' "$WORK/unknown.json")
[ "$got" = "$URL" ] || pp_fail "unknown phone's option 66 is '$got'"
[ "$(jq -r '.fetch.status' "$WORK/unknown.json")" = 404 ] || pp_fail "unknown phone's fetch was not a 404"
sleep 0.5
[ ! -e "$OUT/yealink/001565123456.cfg" ] || pp_fail "a per-device file was rendered for an unknown phone"
[ -f "$OUT/yealink/y000000000000.cfg" ] || pp_fail "no common file"
! grep -rq s3cret "$OUT/yealink/y000000000000.cfg" || pp_fail "the common file holds a password"

# A laptop: no option 66.
pp_simulate --mac 3c:22:fb:01:02:03 --vendor-class "MSFT 5.0" --no-fetch --json > "$WORK/laptop.json" \
    || pp_fail "laptop got no lease"
[ -z "$(jq -r '.["ack-options"][] | select(.code == 66) | .hex' "$WORK/laptop.json")" ] \
    || pp_fail "a laptop got option 66"
# Kea itself logs its whole configuration at debug level; our own lines never hold a secret.
! grep "phoneprov-hooks" "$WORK/kea.log" | grep -q "s3cret" || pp_fail "a password reached our log lines"
echo "PASS: yealink end to end (HTTP $HTTP, TFTP $TFTP, DHCP $DHCP)"
