#!/usr/bin/env bash
# Every vendor's per-device file, served for real: one reserved phone of each vendor
# boots with `phoneprov simulate` against kea-dhcp4 + the hook, fetches its file the
# way that vendor does (the URL or server its options give: HTTP, or TFTP for Cisco's
# option 150 and a bare host in 66), then the same file is fetched both ways, over
# HTTP from nginx and over TFTP from tftpd-hpa, and must be byte-identical to the
# rendered one and carry that phone's account. Every vendor but Cisco's (fixed names at
# the TFTP root) has it in the phone's own folder, <dir>/<token>/ (device-tokens).
source "$(dirname "$0")/lib.sh"
pp_setup
HTTP=$(pp_free_port 18480); pp_start_nginx "$HTTP"
TFTP=$(pp_free_port 16989); pp_start_tftpd "$TFTP"

# MAC | vendor class | the per-device file (as simulate names it) | fetch like the phone
CASES=(
  "00:15:65:20:00:01|yealink|yealink/{mac}.cfg|yes"
  "00:0b:82:20:00:02|Grandstream GXP1628 dslforum.org|grandstream/cfg{mac}.xml|yes"
  "00:04:f2:20:00:03|Polycom-VVX310|polycom/{mac}-user.cfg|yes"
  "00:1e:4a:20:00:04|Cisco Systems, Inc. IP Phone CP-8861|SEP{MAC}.cnf.xml|yes"
  "00:26:99:20:00:05|Cisco Systems, Inc. IP Phone CP-7841-3PCC|{mac}.xml|yes"
  "00:04:13:20:00:06|snomD785|snom/{MAC}.xml|yes"
  "0c:38:3e:20:00:07|Fanvil X4U|fanvil/{mac}.cfg|yes"
  "00:1f:c1:20:00:08|Htek UC926|htek/cfg{mac}.xml|yes"
  "7c:2f:80:20:00:09|Gigaset_N510_IP_PRO|gigaset/{MAC}.xml|yes"
  "00:80:f0:20:00:0a|Panasonic KX-UT136|panasonic/Config{MAC}.cfg|no"
  "00:08:5d:20:00:0b|AastraIPPhone6737i|mitel/{MAC}.cfg|yes"
  "00:04:0d:20:00:0c|ccp.avaya.com|avaya/{mac}.cfg|no"
  "00:90:8f:20:00:0d|AUDC-IPPhone-445HD_UC_3.4.8/1.0|audiocodes/{mac}.cfg|yes"
)
# One reservation per phone, each with its own account.
hosts="[]"
n=0
for case in "${CASES[@]}"; do
    IFS='|' read -r mac _ _ _ <<< "$case"
    n=$((n + 1))
    hosts=$(jq -c --arg mac "$mac" --arg user "$((3000 + n))" \
        '. + [{"hw-address": $mac, "hostname": ("phone-" + $user), "user-context": {"phoneprov": {"sip-server": "127.0.0.1",
              "accounts": [{"user": $user, "password": ("pw" + $user), "display-name": ("Phone " + $user)}]}}}]' \
        <<< "$hosts")
done
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/base.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP"
# Twice: the ACK held by the hook in pkt4_send (the default), then in Kea's parking
# lot (ack-hold parking-lot); each time into an empty tree, so every phone's fetch
# right after its ACK needs the hold.
for MODE in pkt4-send parking-lot; do
rm -rf "${OUT:?}"/* "$OUT"/.phoneprov-tmp
jq --argjson h "$hosts" --arg mode "$MODE" '.Dhcp4.subnet4[0].reservations = $h
    | .Dhcp4["hooks-libraries"][0].parameters["ack-hold"] = $mode' "$WORK/base.json" > "$WORK/kea.json"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }
DHCP=$(pp_free_port 12467)
rm -f "$WORK/kea.log"
pp_start_kea "$WORK/kea.json" "$DHCP"

n=0
for case in "${CASES[@]}"; do
    IFS='|' read -r mac vc path like <<< "$case"
    n=$((n + 1))
    hex=${mac//:/}
    HEXU=${hex^^}
    rel=${path//\{mac\}/$hex}
    rel=${rel//\{MAC\}/$HEXU}
    name=$(basename "$rel")
    if [[ "$rel" == */* ]]; then
        # A vendor with per-device folders (device-tokens): the phone's file is in
        # <dir>/<token>/, and nothing is at the name computable from its MAC.
        [ ! -e "$OUT/$rel" ] || pp_fail "$vc: a per-device file at its MAC-derived name $rel"
        rel="${rel%%/*}/$(pp_token "$mac")/$name"
    fi
    if [ "$like" = yes ]; then
        pp_simulate --mac "$mac" --vendor-class "$vc" --file "$name" --tftp-port "$TFTP" --json \
            --output "$WORK/$n.phone" > "$WORK/$n.json" || pp_fail "$vc: the phone did not get its file ($(jq -c .fetch "$WORK/$n.json" 2>/dev/null))"
    else
        # Avaya reads option 242 (HTTPSRVR=...) and Panasonic's 66 names the file with a
        # {MAC} the phone expands, which simulate does not follow (test_vendor_boot.sh does).
        pp_simulate --mac "$mac" --vendor-class "$vc" --no-fetch --json > "$WORK/$n.json" \
            || pp_fail "$vc: no lease"
    fi
    file="$OUT/$rel"
    [ -f "$file" ] || pp_fail "$vc: no rendered $rel"
    [ "$(stat -c '%a %G' "$file")" = "640 $PP_GROUP" ] || pp_fail "$vc: mode/group of $rel"
    grep -q "$((3000 + n))" "$file" || pp_fail "$vc: $rel does not carry the account $((3000 + n))"
    grep -q "pw$((3000 + n))" "$file" || pp_fail "$vc: $rel does not carry the password"
    [ "$like" = no ] || cmp -s "$file" "$WORK/$n.phone" || pp_fail "$vc: what the phone fetched differs from $rel"
    curl -sf -o "$WORK/$n.http" "http://127.0.0.1:$HTTP/prov/$rel" || pp_fail "$vc: HTTP fetch of $rel"
    cmp -s "$file" "$WORK/$n.http" || pp_fail "$vc: $rel over HTTP differs"
    tftp 127.0.0.1 "$TFTP" -m binary -c get "$rel" "$WORK/$n.tftp"
    cmp -s "$file" "$WORK/$n.tftp" || pp_fail "$vc: $rel over TFTP differs"
    echo "ok: $MODE: $vc: $rel ($(jq -r '(.url // "no fetch") + " via " + (.["url-source"] // "-")' "$WORK/$n.json")), HTTP and TFTP identical"
done
kill "$KEA_PID"; wait "$KEA_PID" 2>/dev/null || true
done
echo "PASS: ${#CASES[@]} vendors' per-device files fetched as the phone does, over HTTP and over TFTP, with the ACK held either way"
