#!/usr/bin/env bash
# kea-config/voice-pool.json: a pool guarded by PHONEPROV serves phones and not
# laptops; laptops get the data pool.
source "$(dirname "$0")/lib.sh"
pp_setup
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/voice-pool.json" \
    "$WORK/kea.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }
DHCP=$(pp_free_port 12267)
pp_start_kea "$WORK/kea.json" "$DHCP"
check() {  # MAC VENDOR-CLASS EXPECTED-PREFIX
    local got vc=()
    [ -n "$2" ] && vc=(--vendor-class "$2")
    got=$(pp_simulate --mac "$1" "${vc[@]}" --no-fetch --json | jq -r .assigned)
    case "$got" in "$3"*) ;; *) pp_fail "$1 ($2) got '$got', expected $3*";; esac
}
check 00:15:65:aa:bb:01 yealink 127.0.1.
check 00:0b:82:27:3b:89 "Grandstream GXP1628 dslforum.org" 127.0.1.
check 00:04:f2:00:00:01 "Polycom-VVX310" 127.0.1.
check 3c:22:fb:01:02:03 "MSFT 5.0" 127.0.2.
check 00:1e:4a:00:00:09 "" 127.0.2.          # a Cisco MAC alone (a switch): data
check f0:18:98:00:00:01 "android-dhcp-13" 127.0.2.
echo "PASS: voice pool for phones, data pool for the rest"
