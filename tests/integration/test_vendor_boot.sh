#!/usr/bin/env bash
# Phones that identify themselves as the real ones do (a bare `yealink`, a bare
# `Panasonic`, no option 60 at all for Fanvil and Htek, Polycom's binary RFC 3925
# option 60, Grandstream's `HT8XX dslforum.org`, Avaya's `ccp.avaya.com`) boot against
# kea-dhcp4 with the hook, then fetch from nginx the sequence of files their guides
# describe, following what each file names (Yealink's boot file and its include:config
# lines, Panasonic's CFG_STANDARD_FILE_PATH, Poly's CONFIG_FILES, Avaya's GET lines),
# and must find every account of their reservation (docs/profiles.md, conformance tables).
source "$(dirname "$0")/lib.sh"
pp_setup
HTTP=$(pp_free_port 18680); pp_start_nginx "$HTTP"
BASE="http://127.0.0.1:$HTTP/prov"

# MAC | vendor | accounts
PHONES=(
  "00:15:65:30:00:01|yealink|2"
  "00:80:f0:30:00:02|panasonic|2"
  "0c:38:3e:30:00:03|fanvil|2"
  "00:1f:c1:30:00:04|htek|2"
  "00:04:f2:30:00:05|polycom|2"
  "00:0b:82:30:00:06|grandstream|2"
  "00:04:0d:30:00:07|avaya|1"
)
hosts="[]"
for p in "${PHONES[@]}"; do
    IFS='|' read -r mac vendor n <<< "$p"
    accts=$(jq -cn --arg m "${mac: -2}" --argjson n "$n" \
        '[range(1; $n + 1) | {"user": ("7\($m)\(.)"), "password": ("pw7\($m)\(.)")}]')
    hosts=$(jq -c --arg mac "$mac" --argjson a "$accts" \
        '. + [{"hw-address": $mac, "hostname": ("phone-" + ($mac | gsub(":"; ""))), "user-context": {"phoneprov": {"sip-server": "127.0.0.1", "accounts": $a}}}]' \
        <<< "$hosts")
done
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/base.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP"
jq --argjson h "$hosts" '.Dhcp4.subnet4[0].reservations = $h
    | .Dhcp4["hooks-libraries"][0].parameters.defaults.timezone = "Europe/Berlin"' \
    "$WORK/base.json" > "$WORK/kea.json"
DHCP=$(pp_free_port 12667)
pp_start_kea "$WORK/kea.json" "$DHCP"

# get URL: fetches one file as the phone would, into $WORK/got; fails on anything but 200.
get() {
    local code
    code=$(curl -s -o "$WORK/got" -w '%{http_code}' "$1")
    [ "$code" = 200 ] || pp_fail "$VENDOR: GET $1 answered $code"
    SEQ+=("${1#"$BASE"/}")
    cat "$WORK/got" >> "$WORK/all"
}
# boot MAC [simulate args]: DHCP only; the ACK's options in $WORK/sim.json.
boot() {
    local mac=$1; shift
    pp_simulate --mac "$mac" --no-fetch --json "$@" > "$WORK/sim.json" || pp_fail "$VENDOR: no lease"
    : > "$WORK/all"
    SEQ=()
}
opt() { jq -r --argjson c "$1" '.["ack-options"][] | select(.code == $c) | .text' "$WORK/sim.json"; }
# accounts MAC N: every account of the reservation is in what the phone fetched.
accounts() {
    local m=${1: -2} k
    for k in $(seq 1 "$2"); do
        grep -q "7$m$k" "$WORK/all" || pp_fail "$VENDOR: account 7$m$k not in what the phone fetched"
        grep -q "pw7$m$k" "$WORK/all" || pp_fail "$VENDOR: password of 7$m$k not fetched"
    done
    echo "ok: $VENDOR: ${SEQ[*]} ($2 accounts)"
}

# Yealink: bare `yealink`; <mac>.boot, then each include:config line in order.
VENDOR=yealink; MAC=00:15:65:30:00:01; HEX=001565300001
boot "$MAC" --vendor-class yealink
url=$(opt 66)
[ "$url" = "$BASE/yealink/$(pp_token "$MAC")/" ] || pp_fail "yealink: option 66 '$url'"
get "${url}$HEX.boot"
[ "$(head -1 "$WORK/got")" = "#!version:1.0.0.1" ] || pp_fail "yealink: boot file header"
mapfile -t inc < <(sed -n 's/^include:config "\(.*\)"$/\1/p' "$WORK/got")
[ "${#inc[@]}" = 2 ] || pp_fail "yealink: boot file includes ${#inc[@]} files"
for f in "${inc[@]}"; do get "$url$f"; done
grep -qx "local_time.time_zone = +1" "$WORK/all" || pp_fail "yealink: no time zone in the common file"
grep -qx "local_time.start_time = 3/5/7/2" "$WORK/all" || pp_fail "yealink: no DST start"
accounts "$MAC" 2
# An unknown Yealink: no <mac>.boot, so the common boot file, which names no account.
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}001565999999.boot")
[ "$code" = 404 ] || pp_fail "yealink: an unknown phone's boot file answered $code"
curl -sf "${url}y000000000000.boot" | grep -qx 'include:config "y000000000000.cfg"' \
    || pp_fail "yealink: the common boot file"

# Panasonic: exactly `Panasonic`; option 66 names Config{MAC}.cfg, which names itself
# as the standard file.
VENDOR=panasonic; MAC=00:80:f0:30:00:02; HEXU=0080F0300002
boot "$MAC" --vendor-class Panasonic
url=$(opt 66)
[ "$url" = "$BASE/panasonic/$(pp_token "$MAC")/Config{MAC}.cfg" ] || pp_fail "panasonic: option 66 '$url'"
get "${url//\{MAC\}/$HEXU}"
std=$(sed -n 's/^CFG_STANDARD_FILE_PATH="\(.*\)"\r$/\1/p' "$WORK/got")
[ -n "$std" ] || pp_fail "panasonic: the first file sets no CFG_STANDARD_FILE_PATH"
get "${std//\{MAC\}/$HEXU}"
accounts "$MAC" 2

# Fanvil and Htek send no option 60: the MAC prefix alone.
VENDOR=fanvil; MAC=0c:38:3e:30:00:03
boot "$MAC"
url=$(opt 66)
get "${url}0c383e300003.cfg"
accounts "$MAC" 2
VENDOR=htek; MAC=00:1f:c1:30:00:04
boot "$MAC"
url=$(opt 66)
get "${url}cfg001fc1300004.xml"
accounts "$MAC" 2

# Poly: current firmware's option 60 is RFC 3925 binary (enterprise 13885, sub-options);
# no <mac>.cfg, so 000000000000.cfg, then its CONFIG_FILES in order.
VENDOR=polycom; MAC=00:04:f2:30:00:05; HEX=0004f2300005
vc=$(printf '\x00\x00\x36\x3d\x1e\x01\x07Polycom\x02\x06VVX410\x03\x03SIP\x04\x05 5.9.' | od -An -tx1 | tr -d ' \n')
boot "$MAC" --vendor-class-hex "$vc"
url=$(opt 66)
[ "$url" = "$BASE/polycom/$(pp_token "$MAC")/" ] || pp_fail "polycom: option 66 '$url'"
code=$(curl -s -o /dev/null -w '%{http_code}' "${url}$HEX.cfg")
[ "$code" = 404 ] || pp_fail "polycom: <mac>.cfg answered $code"
get "${url}000000000000.cfg"
files=$(sed -n 's/.*CONFIG_FILES="\([^"]*\)".*/\1/p' "$WORK/got")
IFS=',' read -ra list <<< "$files"
for f in "${list[@]}"; do f=${f# }; get "$url${f//\[PHONE_MAC_ADDRESS\]/$HEX}"; done
accounts "$MAC" 2

# Grandstream HT80x: `HT8XX dslforum.org`; cfg<mac>.xml, and the model file of each HT8xx.
VENDOR=grandstream; MAC=00:0b:82:30:00:06
boot "$MAC" --vendor-class "HT8XX dslforum.org"
url=$(opt 66)
get "${url}cfg000b82300006.xml"
accounts "$MAC" 2
for m in 801 802 812 814; do
    curl -sf -o /dev/null "${url}cfght$m.xml" || pp_fail "grandstream: no cfght$m.xml"
done

# Avaya: option 242 gives HTTPSRVR, HTTPPORT and HTTPDIR; the upgrade script, then the
# settings file it names, then the phone's own file ($MACADDR).
VENDOR=avaya; MAC=00:04:0d:30:00:07; HEX=00040d300007
boot "$MAC" --vendor-class ccp.avaya.com
sson=$(opt 242)
srv=$(sed -n 's/.*HTTPSRVR=\([^,]*\).*/\1/p' <<< "$sson")
port=$(sed -n 's/.*HTTPPORT=\([^,]*\).*/\1/p' <<< "$sson")
dir=$(sed -n 's/.*HTTPDIR=\([^,]*\).*/\1/p' <<< "$sson")
[ "$srv:$port/$dir" = "127.0.0.1:$HTTP/prov/avaya/$(pp_token "$MAC")" ] || pp_fail "avaya: option 242 '$sson'"
root="http://$srv:$port/$dir"
get "$root/J100Supgrade.txt"
next=$(sed -n 's/^GET \(.*\)$/\1/p' "$WORK/got")
get "$root/$next"
next=$(sed -n 's/^GET \(.*\)$/\1/p' "$WORK/got")
get "$root/${next//\$MACADDR/$HEX}"
accounts "$MAC" 1

echo "PASS: ${#PHONES[@]} phones identified as the real ones are fetched their guides' sequences and found their accounts"
