#!/usr/bin/env bash
# Crash safety: kill -9 kea-dhcp4 at random moments during a render storm.
# 40 reserved phones (Yealink, a `key = value` format; snom, XML) are rendered over
# and over from one of two configurations (A and B: different reservation values,
# picked at random per cycle) while DISCOVERs pour in; Kea is killed with SIGKILL
# 0.05-0.35 s after it started. After each kill: every served file is byte-identical
# to the complete render of A or of B (`phoneprov render`), none is partial or
# absent once rendered; no temp file is visible in the served tree (temp files live
# in <output-dir>/.phoneprov-tmp, mode 0700, which nginx refuses); stale temp files
# are removed at the next load.
# CRASH_CYCLES (default 10 in CI; 200 for the long run) sets the number of kills.
source "$(dirname "$0")/lib.sh"
pp_setup
HERE=$(cd "$(dirname "$0")" && pwd)
CYCLES=${CRASH_CYCLES:-10}
HTTP=$(pp_free_port $((30000 + RANDOM % 20000)))

python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/base.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" \
    --http-port "$HTTP"
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
base = json.load(open(work + "/base.json"))
cases = []
for variant in ("A", "B"):
    c = json.loads(json.dumps(base))
    d = c["Dhcp4"]
    d["subnet4"][0]["pools"] = [{"pool": "127.1.0.0 - 127.1.0.255"}]
    hp = d["hooks-libraries"][0]["parameters"]
    hp["render-interval"] = 0      # every OFFER renders again
    hp["render-wait-ms"] = 0
    hp["render-threads"] = 2
    res = []
    for i in range(40):
        vendor, model, prefix, vc = (("yealink", "T46S", "001565cc", "yealink") if i % 2 == 0
                                     else ("snom", "D785", "000413cc", "snomD785"))
        mac = prefix + "%04x" % i
        res.append({"hw-address": ":".join(mac[k:k + 2] for k in range(0, 12, 2)),
                    "ip-address": "127.0.2.%d" % (i + 1),
                    "user-context": {"phoneprov": {
                        "vendor": vendor, "model": model,
                        "sip-server": "10.0.%s.%d" % ("1" if variant == "A" else "2", i),
                        # B's values are longer: a torn write shows as a size mismatch.
                        "accounts": [{"user": str(1000 + i), "password": "pw%s%d" % (variant, i) * (1 if variant == "A" else 40),
                                      "display-name": ("Alice %d" % i) if variant == "A" else ("Bob %d " % i) * 30}]}}})
        if variant == "A":
            cases.append({"mac": mac, "vc": vc.encode().hex()})
    d["subnet4"][0]["reservations"] = res
    json.dump(c, open("%s/kea-%s.json" % (work, variant), "w"), indent=1)
json.dump(cases, open(work + "/cases.json", "w"))
PY

# The complete renders, offline, for both configurations.
for v in A B; do
    mkdir -p "$WORK/exp-$v"
    "$PHONEPROV" render --config "$WORK/kea-$v.json" --output "$WORK/exp-$v" --quiet 2>"$WORK/exp-$v.log" \
        || { cat "$WORK/exp-$v.log"; pp_fail "phoneprov render $v failed"; }
done
nexp=$(cd "$WORK/exp-A" && find . -type f -not -path './.phoneprov-tmp/*' -not -path './.phoneprov-state/*' | wc -l)
[ "$nexp" -ge 40 ] || pp_fail "only $nexp files rendered offline"

# Every served file equals A's or B's complete render.
check_tree() {
    local label=$1 f
    while IFS= read -r f; do
        if ! cmp -s "$OUT/$f" "$WORK/exp-A/$f" && ! cmp -s "$OUT/$f" "$WORK/exp-B/$f"; then
            pp_fail "$label: $f is neither A's nor B's complete render ($(stat -c %s "$OUT/$f") bytes)"
        fi
    done < <(cd "$OUT" && find . -type f -not -path './.phoneprov-tmp/*' -not -path './.phoneprov-state/*' | sed 's|^\./||')
    if [ -d "$OUT/.phoneprov-tmp" ]; then
        [ "$(stat -c %a "$OUT/.phoneprov-tmp")" = 700 ] || pp_fail "$label: .phoneprov-tmp is not 0700"
    fi
    # No temp name anywhere else in the served tree.
    if (cd "$OUT" && find . -name '*.tmp' -not -path './.phoneprov-tmp/*' -not -path './.phoneprov-state/*' | grep -q .); then
        pp_fail "$label: a temp file in the served tree"
    fi
}

drop_pid() {  # forget a PID we reaped (it may be reused by another process later)
    local keep=() p
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

DHCP=$(pp_free_port_pair)
# Baseline: a clean run renders exactly A (the comparison can fail).
# all_rendered V: true when every file of V's offline render is served, byte for byte.
all_rendered() {
    local f
    while IFS= read -r f; do
        cmp -s "$OUT/$f" "$WORK/exp-$1/$f" || return 1
    done < <(cd "$WORK/exp-$1" && find . -type f -not -path './.phoneprov-tmp/*' -not -path './.phoneprov-state/*' | sed 's|^\./||')
}
# await_rendered V WHAT: waits (60 s at most) for all_rendered V; no fixed sleep, so a
# slow machine only waits longer.
await_rendered() {
    for _ in $(seq 600); do
        all_rendered "$1" && return 0
        sleep 0.1
    done
    pp_fail "$2: the served tree is not $1's complete render after 60 s"
}

pp_start_kea "$WORK/kea-A.json" "$DHCP"
python3 "$HERE/dhcp_raw.py" dora "$DHCP" "$WORK/cases.json" > /dev/null
await_rendered A baseline
pp_wait_log PHONEPROV_RESERVED_DONE "$WORK/kea.log" 60 || pp_fail "baseline: the start-up render never finished"
kill "$KEA_PID"; wait "$KEA_PID" 2>/dev/null || true; drop_pid "$KEA_PID"
nserved=$(cd "$OUT" && find . -type f -not -path './.phoneprov-tmp/*' -not -path './.phoneprov-state/*' | wc -l)
[ "$nserved" -ge 40 ] || pp_fail "baseline: only $nserved files served"
(cd "$OUT" && find . -type f -not -path './.phoneprov-tmp/*' -not -path './.phoneprov-state/*') | while IFS= read -r f; do
    cmp -s "$OUT/$f" "$WORK/exp-A/$f" || pp_fail "baseline: $f differs from phoneprov render"
done
echo "ok: baseline: $nserved served files identical to phoneprov render"

# nginx refuses the temp folder.
pp_start_nginx "$HTTP"
mkdir -p -m 0700 "$OUT/.phoneprov-tmp"
echo secret > "$OUT/.phoneprov-tmp/probe.tmp"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP/prov/.phoneprov-tmp/probe.tmp")
[ "$code" = 403 ] || [ "$code" = 404 ] || pp_fail "nginx served a temp file (HTTP $code)"
rm -f "$OUT/.phoneprov-tmp/probe.tmp"

python3 "$HERE/dhcp_raw.py" storm "$DHCP" "$WORK/cases.json" 100000 --rate 1500 &
STORM=$!
PIDS+=($STORM)
stale_total=0
start=$(date +%s)
for cycle in $(seq "$CYCLES"); do
    v=$([ $((RANDOM % 2)) = 0 ] && echo A || echo B)
    : > "$WORK/kea.log"
    pp_start_kea "$WORK/kea-$v.json" "$DHCP"
    sleep "0.$((RANDOM % 30 + 5))"
    kill -9 "$KEA_PID"
    wait "$KEA_PID" 2>/dev/null || true
    drop_pid "$KEA_PID"
    check_tree "cycle $cycle ($v)"
    n=$( { grep -o 'PHONEPROV_STALE_TEMPS phoneprov removed [0-9]*' "$WORK/kea.log" || true; } | awk '{s+=$4} END {print s+0}')
    stale_total=$((stale_total + n))
done
kill "$STORM"; wait "$STORM" 2>/dev/null || true; drop_pid "$STORM"
elapsed=$(( $(date +%s) - start ))
left=$(ls -A "$OUT/.phoneprov-tmp" 2>/dev/null | wc -l)
echo "ok: $CYCLES kill -9 cycles in ${elapsed}s: every served file complete; $left temp files left by the last kill, $stale_total removed at loads"

# A clean load removes what the last kill left, and renders A completely again.
# Stale temp files are the ones present before the load (recorded by name): each must
# be gone once Kea has started. Temp files the start-up render (render-reserved) makes
# from that moment on are fresh, and allowed while it runs; once it has logged
# PHONEPROV_RESERVED_DONE (and nothing else renders) none may be left.
stale=$(ls -A "$OUT/.phoneprov-tmp" 2>/dev/null || true)
[ "$(printf '%s' "$stale" | grep -c .)" = "$left" ] || pp_fail "temp files changed while no Kea ran"
: > "$WORK/kea.log"
pp_start_kea "$WORK/kea-A.json" "$DHCP"
for name in $stale; do
    [ ! -e "$OUT/.phoneprov-tmp/$name" ] || pp_fail "stale temp file $name survived the load"
done
if [ "$left" -gt 0 ]; then
    grep -q "PHONEPROV_STALE_TEMPS phoneprov removed $left " "$WORK/kea.log" \
        || pp_fail "the load did not log the $left stale temp files"
fi
pp_wait_log PHONEPROV_RESERVED_DONE "$WORK/kea.log" 60 || pp_fail "the start-up render never finished"
[ -z "$(ls -A "$OUT/.phoneprov-tmp" 2>/dev/null)" ] || pp_fail "temp files left after the start-up render: $(ls -A "$OUT/.phoneprov-tmp")"
python3 "$HERE/dhcp_raw.py" dora "$DHCP" "$WORK/cases.json" > /dev/null
await_rendered A "after recovery"
check_tree "after recovery"
(cd "$WORK/exp-A" && find . -type f) | while IFS= read -r f; do
    cmp -s "$OUT/$f" "$WORK/exp-A/$f" || pp_fail "after recovery: $f is not A's render"
done
echo "PASS: crash safety ($CYCLES kills)"
