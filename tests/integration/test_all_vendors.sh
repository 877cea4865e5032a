#!/usr/bin/env bash
# One phone of each vendor boots against the real kea-dhcp4 with the hook
# (phoneprov simulate); the OFFER and ACK must carry the bytes that vendor reads:
# URLs in 66/160/114, option 150 as binary IPv4, option 43 as Mitel TLVs,
# Avaya's 242 string (host, port and path of base-url). The real fetch sequences:
# test_vendor_boot.sh. Runs twice: single-threaded, then with Kea's multi-threading.
source "$(dirname "$0")/lib.sh"
pp_setup
HTTP=18380
BASE="http://127.0.0.1:$HTTP/prov"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
tlv() { printf '%02x%02x%s' "$1" "$(( ${#2} / 2 ))" "$2"; }

# MAC | vendor class | code | expected hex
CASES=(
  "00:15:65:10:00:01|yealink|66|$(hex "$BASE/yealink/")"
  "00:0b:82:10:00:02|Grandstream GXP1628 dslforum.org|66|$(hex "$BASE/grandstream/")"
  "00:0b:82:10:00:02|Grandstream GXP1628 dslforum.org|160|$(hex "$BASE/grandstream/")"
  "00:04:f2:10:00:03|Polycom-VVX310|66|$(hex "$BASE/polycom/")"
  "00:1e:4a:10:00:04|Cisco Systems, Inc. IP Phone CP-8861|150|7f000001"
  "00:26:99:10:00:05|Cisco Systems, Inc. IP Phone CP-7841-3PCC|66|$(hex "127.0.0.1")"
  "00:04:13:10:00:06|snomD785|66|$(hex "$BASE/snom/")"
  "0c:38:3e:10:00:07|Fanvil X4U|66|$(hex "$BASE/fanvil/")"
  "00:1f:c1:10:00:08|Htek UC926|66|$(hex "$BASE/htek/")"
  "7c:2f:80:10:00:09|Gigaset_N720_DM_PRO|114|$(hex "$BASE/gigaset/")"
  "00:80:f0:10:00:0a|Panasonic|66|$(hex "$BASE/panasonic/Config{MAC}.cfg")"
  "00:08:5d:10:00:0b|AastraIPPhone6737i|43|$(tlv 2 "$(hex "$BASE/mitel/")")$(tlv 3 00)"
  "00:04:0d:10:00:0c|ccp.avaya.com|242|$(hex "HTTPSRVR=127.0.0.1,HTTPPORT=$HTTP,HTTPDIR=prov/avaya")"
  "00:90:8f:10:00:0d|AUDC-IPPhone-445HD_UC_3.4.8/1.0|160|$(hex "$BASE/audiocodes/")"
)

run_all() {
    local label=$1 config=$2 case mac vc code want got
    DHCP=$(pp_free_port 12367)
    pp_start_kea "$config" "$DHCP"
    for case in "${CASES[@]}"; do
        IFS='|' read -r mac vc code want <<< "$case"
        pp_simulate --mac "$mac" --vendor-class "$vc" --no-fetch --json > "$WORK/sim.json" \
            || pp_fail "$label: $vc ($mac) got no lease"
        for kind in offer-options ack-options; do
            got=$(jq -r --argjson c "$code" --arg k "$kind" '.[$k][] | select(.code == $c) | .hex' "$WORK/sim.json")
            [ "$got" = "$want" ] || pp_fail "$label: $vc ($mac) $kind option $code is '$got', expected '$want'"
        done
    done
    kill "$KEA_PID"; wait "$KEA_PID" 2>/dev/null || true
    echo "ok: $label: ${#CASES[@]} vendor options checked"
}

python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/st.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP"
run_all single-threaded "$WORK/st.json"
# The same with Kea's multi-threading: the callouts declare themselves thread-safe.
jq '.Dhcp4["multi-threading"] = {"enable-multi-threading": true, "thread-pool-size": 4, "packet-queue-size": 64}' \
    "$WORK/st.json" > "$WORK/mt.json"
rm -f "$WORK/kea.log"
run_all multi-threaded "$WORK/mt.json"
grep -q "DHCP4_MULTI_THREADING_INFO enabled: yes" "$WORK/kea.log" || pp_fail "Kea did not run multi-threaded"

# The subnet sets its own option 66 for everyone (always-send): phones still get
# their vendor's URL (the default precedence), a laptop gets the subnet's.
jq '.Dhcp4.subnet4[0]["option-data"] = [{"name": "tftp-server-name", "data": "tftp.example.com", "always-send": true}]' \
    "$WORK/st.json" > "$WORK/subnet66.json"
run_all "subnet option 66" "$WORK/subnet66.json"
DHCP=$(pp_free_port 12367)
pp_start_kea "$WORK/subnet66.json" "$DHCP"
got=$(pp_simulate --mac 3c:22:fb:01:02:03 --vendor-class "MSFT 5.0" --no-fetch --json \
      | jq -r '.["ack-options"][] | select(.code == 66) | .text')
[ "$got" = "tftp.example.com" ] || pp_fail "the laptop's option 66 is '$got'"
echo "PASS: every vendor's options, single- and multi-threaded, and over a subnet's own option 66"
