#!/usr/bin/env bash
# The quick start: installs what is needed, builds, then runs the main job on
# loopback: kea-dhcp4 with the hook (kea-config/quickstart.json), nginx and
# tftpd-hpa serving the rendered files, and two simulated Yealink phones booting:
# one with a host reservation (it gets its SIP account) and one unknown (it gets
# the provisioning option and no credentials); then what the server knows of each phone
# (`phoneprov list`: fetched, or only rendered). Everything it starts, it stops.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root (it installs packages and starts servers)" >&2; exit 1; }
./scripts/install-deps.sh
./scripts/build.sh > /dev/null
export BUILD_DIR=$PWD/build SOURCE_DIR=$PWD
source tests/integration/lib.sh
pp_setup
HTTP=$(pp_free_port 8080)
TFTP=$(pp_free_port 6969); pp_start_tftpd "$TFTP"
python3 scripts/adapt_kea_config.py kea-config/quickstart.json "$WORK/quickstart.json" --work "$WORK" \
    --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" --http-port "$HTTP"
# A control socket for `phoneprov list`, and nginx's requests sent to the hook's phone
# records (state-db, in $WORK), as the guide's "Phone records and fetches" sets them up.
jq --arg sock "$WORK/kea4-ctrl.sock" --arg fs "$WORK/fetch.sock" '
    .Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}
  | .Dhcp4["hooks-libraries"][0].parameters["fetch-log-socket"] = $fs' \
    "$WORK/quickstart.json" > "$WORK/kea.json"
DHCP=$(pp_free_port 10067)
pp_start_kea "$WORK/kea.json" "$DHCP"
pp_start_nginx "$HTTP" "$WORK/fetch.sock"
echo "== kea-dhcp4 (pid $KEA_PID) on 127.0.0.1:$DHCP with libdhcp_phoneprov.so;"
echo "== nginx on 127.0.0.1:$HTTP and tftpd-hpa on 127.0.0.1:$TFTP serve $OUT"
echo
echo "== 1. A Yealink with a host reservation (00:15:65:aa:bb:cc) boots:"
pp_simulate --mac 00:15:65:aa:bb:cc --vendor-class yealink --file '{mac}.cfg' || true
echo
echo "== 2. An unknown Yealink (00:15:65:12:34:56) boots: it gets the option, no credentials:"
pp_simulate --mac 00:15:65:12:34:56 --vendor-class yealink --file '{mac}.cfg' || true
echo
echo "== 3. A laptop boots: no phone options:"
pp_simulate --mac 3c:22:fb:01:02:03 --vendor-class "MSFT 5.0" --no-fetch || true
echo
echo "== What identification says about each:"
for args in "00:15:65:aa:bb:cc yealink" "00:0b:82:27:3b:89 Grandstream GXP1628 dslforum.org" \
            "3c:22:fb:01:02:03 MSFT 5.0"; do
    mac=${args%% *}; vc=${args#* }
    "$PHONEPROV" identify --profiles-dir "$PROFILES_DIR" --mac "$mac" --vendor-class "$vc" --json
done
echo
echo "== What the server knows of each phone (phoneprov list, from the hook's records):"
pp_wait_until 5 eval '"$PHONEPROV" list --config "$WORK/kea.json" --state fetched | grep -q aa:bb:cc' || true
"$PHONEPROV" list --config "$WORK/kea.json" || true
echo
echo "== The served tree:"
find "$OUT" \( -path "$OUT/.phoneprov-tmp" -o -path "$OUT/.phoneprov-state" \) -prune -o -type f -printf '%M %u:%g %6s %P\n'
