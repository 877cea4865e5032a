#!/usr/bin/env bash
# Hostile input against the real kea-dhcp4 with the hook, on loopback:
# 1. 10,000 unknown MACs with a valid vendor class (DISCOVERs): no per-device file.
# 2. Over 200 path-traversal and injection strings in option 60, in chaddr and in
#    reservation values (user-context.phoneprov), for a `key = value` vendor
#    (Yealink) and an XML vendor (snom): every exchange is answered, nothing is
#    written outside output-dir (a canary tree, and every file under the test's temp
#    root newer than the start), every served name is one safe component, no
#    injected key or element in any file (line-breaking values are refused, XML
#    values escaped), no template tag from a value is expanded, no file is
#    world-readable, no temp file is left in the served tree.
source "$(dirname "$0")/lib.sh"
pp_setup
HERE=$(cd "$(dirname "$0")" && pwd)
HTTP=18390

mkdir -p "$WORK/canary/a/b" "$WORK/canary/etc" "$WORK/canary/tmp"
echo keep > "$WORK/canary/a/b/file"
(cd "$WORK/canary" && find . -exec stat -c '%n %s %Y %a' {} + | sort) > "$WORK/canary.before"
sleep 1.1
touch "$WORK/start.marker"

python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/base.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP"
# A pool large enough for 10,000 clients; the output dir is the canary's sibling.
# A control socket, to ask phoneprov-status whether renders are still pending, in a
# folder of mode 0750, the one Kea 2.6.3 wants: kea_confine.py then has nothing to move,
# and both Keas read the hostile strings exactly as hostile_cases.py wrote them.
install -d -m 0750 "$WORK/kea"
jq --arg sock "$WORK/kea/ctrl.sock" '.Dhcp4.subnet4[0].pools = [{"pool": "127.1.0.0 - 127.1.255.255"}]
    | .Dhcp4["valid-lifetime"] = 600
    | .Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}' "$WORK/base.json" > "$WORK/base2.json"
NSTR=$(python3 "$HERE/hostile_cases.py" "$WORK/base2.json" "$WORK/kea.json" "$WORK/cases.json")
[ "$NSTR" -ge 200 ] || pp_fail "only $NSTR hostile strings"

DHCP=$(pp_free_port_pair)
pp_start_kea "$WORK/kea.json" "$DHCP"

# 1. 10,000 unknown Yealink MACs (none reserved in 00:15:65:00:xx:xx) with option 60.
VCHEX=$(printf 'yealink' | od -An -tx1 | tr -d ' \n')
NUNKNOWN=${HOSTILE_UNKNOWN_MACS:-10000}
python3 "$HERE/dhcp_raw.py" discover-range "$DHCP" 001565000000 "$NUNKNOWN" "$VCHEX" > "$WORK/range.json"
acks=$(jq -r .offered "$WORK/range.json")
[ "$acks" -ge $((NUNKNOWN * 99 / 100)) ] || pp_fail "only $acks of $NUNKNOWN unknown phones got an OFFER"
# Every render those packets (and the start-up render) queued has finished.
pp_await_idle "$WORK/kea/ctrl.sock" 120 || pp_fail "renders still pending after 120 s"
# (the reserved hostile-string phones, 00:15:65:ee:xx:xx, are rendered at start-up)
perdev=$(find "$OUT/yealink" -name '00156500*' 2>/dev/null | wc -l)
[ "$perdev" = 0 ] || pp_fail "$perdev per-device files for unknown MACs"
[ -f "$OUT/yealink/y000000000000.cfg" ] || pp_fail "the common file was not rendered (the test cannot fail)"
echo "ok: $acks of $NUNKNOWN unknown Yealink MACs offered, no per-device file"

# 2. The hostile strings.
python3 "$HERE/dhcp_raw.py" dora "$DHCP" "$WORK/cases.json" > "$WORK/results.jsonl"
total=$(wc -l < "$WORK/results.jsonl")
acked=$(grep -c '"acked": true' "$WORK/results.jsonl" || true)
kill -0 "$KEA_PID" || pp_fail "kea-dhcp4 died"
tail -1 "$WORK/results.jsonl" | grep -q '"acked": true' || pp_fail "the plain phone at the end got no ACK"
# Every exchange but those whose chaddr Kea itself cannot use is answered.
[ "$acked" -ge $((total - NSTR / 4)) ] || pp_fail "only $acked of $total hostile exchanges answered"
echo "ok: $acked of $total exchanges with hostile strings answered ($NSTR strings)"

# The reserved phones' files: the ACK waited for the render (render-wait-ms), at most
# that long; wait until the workers are idle.
pp_await_idle "$WORK/kea/ctrl.sock" 120 || pp_fail "renders still pending after 120 s"

# Nothing outside output-dir.
(cd "$WORK/canary" && find . -exec stat -c '%n %s %Y %a' {} + | sort) > "$WORK/canary.after"
cmp -s "$WORK/canary.before" "$WORK/canary.after" || pp_fail "the canary tree changed"
outside=$(find "$WORK" -newer "$WORK/start.marker" -not -type d \
    -not -path "$OUT/*" -not -path "$WORK/kea/*" -not -name 'kea.log*' \
    -not -name 'results.jsonl' -not -name 'range.json' -not -name 'cases.json' \
    -not -name 'kea.json' -not -name 'base*.json' -not -name 'canary.*' -not -name 'site.key' -not -name 'state.db*' | head -5)
[ -z "$outside" ] || pp_fail "files written outside output-dir: $outside"
for f in /tmp/INJECTED /var/www/INJECTED /root/INJECTED; do
    [ ! -e "$f" ] || pp_fail "$f exists"
done
# The places a traversal would aim at (the whole of / is too slow on a busy CI host).
if find /etc /tmp /var /root /srv /home /usr/local -xdev -name 'INJECTED*' -newer "$WORK/start.marker" \
        -print 2>/dev/null | grep -q .; then
    pp_fail "a file named INJECTED* appeared"
fi

# Every served path is <vendor dir>/<safe name>, <vendor dir>/<token>/<safe name> or <safe name>; no symlink; no temp file.
# The manifest of written files (.phoneprov-state, issue 21) names token folders: only root reads it.
[ "$(stat -c %a "$OUT/.phoneprov-state")" = 700 ] || pp_fail ".phoneprov-state is not 0700"
! find "$OUT/.phoneprov-state" -type f -perm /0077 | grep -q . || pp_fail "a manifest file readable beyond its owner"
bad=$(cd "$OUT" && find . -mindepth 1 -not -path './.phoneprov-tmp' -not -path './.phoneprov-tmp/*' \
      -not -path './.phoneprov-state' -not -path './.phoneprov-state/*' \
      | { grep -Ev '^\./[a-z-]+(/[0-9a-f]{32})?(/[A-Za-z0-9][A-Za-z0-9._-]*)?$|^\./[A-Za-z0-9][A-Za-z0-9._-]*$' || true; } | head -5)
[ -z "$bad" ] || pp_fail "unexpected paths in output-dir: $bad"
[ -z "$(find "$OUT" -type l)" ] || pp_fail "a symlink in output-dir"
[ -z "$(find "$OUT" -perm -o=r -type f)" ] || pp_fail "world-readable files: $(find "$OUT" -perm -o=r -type f | head -3)"
if [ -d "$OUT/.phoneprov-tmp" ]; then
    [ "$(stat -c %a "$OUT/.phoneprov-tmp")" = 700 ] || pp_fail ".phoneprov-tmp is not 0700"
    [ -z "$(ls -A "$OUT/.phoneprov-tmp")" ] || pp_fail "temp files left: $(ls -A "$OUT/.phoneprov-tmp" | head -3)"
fi

# No injected key (a line starting with it) in key = value files; no injected
# element or unescaped entity in XML files; no template tag from a value expanded
# (pw-{{password}}INJECTED would render the password twice).
yfiles=$(find "$OUT/yealink" -type f -name '001565ee*' | wc -l)
sfiles=$(find "$OUT/snom" -type f -name '*001565EE*' -o -type f -name '*000413EE*' | wc -l)
[ "$yfiles" -ge 20 ] || pp_fail "only $yfiles Yealink files rendered for reserved phones"
[ "$sfiles" -ge 20 ] || pp_fail "only $sfiles snom files rendered for reserved phones"
if grep -rlaE '^[[:space:]]*(INJECTED|account\.1\.password = INJECTED)' "$OUT/yealink"; then
    pp_fail "an injected key in a Yealink file"
fi
if grep -rlaE '<INJECTED|&INJECTED;|<!ENTITY|<!--INJECTED|<!\[CDATA\[INJECTED' "$OUT/snom"; then
    pp_fail "injected markup in a snom file"
fi
if grep -rla $'\r' "$OUT/yealink"; then pp_fail "a CR in a Yealink file"; fi
find "$OUT" -type f -name '*.xml' -print0 | python3 -c '
import sys, xml.dom.minidom as m
bad = []
for f in sys.stdin.buffer.read().split(b"\0"):
    if f:
        try:
            m.parse(f.decode())
        except Exception:
            bad.append(f.decode())
print("\n".join(bad[:5]))
sys.exit(1 if bad else 0)' || pp_fail "XML files no longer well-formed (above)"
# Line-breaking values were refused, and said so (never with the value).
grep -q "PHONEPROV_RENDER_FAILED" "$WORK/kea.log" || pp_fail "no render was refused"
if grep "PHONEPROV_RENDER_FAILED" "$WORK/kea.log" | grep -q "pw-"; then
    pp_fail "a password in the log"
fi
# The hook's own log lines carry no raw bytes from a packet (Kea's debug lines may).
if grep -aP 'PHONEPROV_[A-Z_]+ .*[\x00-\x08\x0b-\x1f\x7f]' "$WORK/kea.log" | grep -q .; then
    pp_fail "a control character from a packet in a PHONEPROV log line"
fi
echo "ok: $yfiles Yealink and $sfiles snom files for reserved phones, none injected, nothing outside output-dir"
echo "PASS: hostile input"
