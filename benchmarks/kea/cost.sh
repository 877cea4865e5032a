#!/usr/bin/env bash
# What the hook costs Kea, in instructions per DHCP exchange (callgrind, single-
# threaded Kea on loopback), side by side with Kea alone, Kea's own client class
# giving option 66, and libdhcp_flex_option.so building a per-MAC URL.
# usage: benchmarks/kea/cost.sh [EXCHANGES] [PHONES]   (needs a build in ./build)
# Prints one table; ratios are to Kea alone, from this one run (COST_SETUPS: a
# subset of the setups, e.g. "alone hook hook-binding"; the first is the base).
# COST_HOOK: another build's libdhcp_phoneprov.so (an earlier commit's, to compare).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-600} PHONES=${2:-600}
WORK=$(mktemp -d /tmp/phoneprov-cost.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out"
python3 benchmarks/kea/make_configs.py "$WORK" --phones "$PHONES" \
    --hook "${COST_HOOK:-$PWD/build/hook/libdhcp_phoneprov.so}" --profiles "$PWD/profiles" --out "$WORK/out"
jq '.Dhcp4["hooks-libraries"][0].parameters["render-wait-ms"] = 0' "$WORK/hook.json" > "$WORK/hook-nopark.json"
jq '.Dhcp4["hooks-libraries"][0].parameters.render = false' "$WORK/hook-nopark.json" > "$WORK/hook-norender.json"
jq '.Dhcp4["hooks-libraries"][0].parameters["lease-binding"] = true' "$WORK/hook.json" > "$WORK/hook-binding.json"
jq '.Dhcp4["hooks-libraries"][0].parameters["lease-binding"] = true' "$WORK/hook-nopark.json" > "$WORK/hook-binding-nopark.json"
printf '%-44s %10s %12s %8s\n' "setup" "exchanges" "Ir/exchange" "ratio"
base=""
for s in ${COST_SETUPS:-alone class66 flex hook hook-binding hook-nopark hook-norender}; do
    read -r n all main < <(benchmarks/kea/callgrind_exchange.sh "$WORK/$s.json" "$N" "$PHONES" "$WORK/run")
    [ -n "$base" ] || base=$main
    case $s in
      alone) label="Kea alone";;
      class66) label="client class with option 66";;
      flex) label="flex_option per-MAC URL";;
      hook) label="phoneprov (defaults: ACK waits for render)";;
      hook-binding) label="phoneprov, lease-binding";;
      hook-binding-nopark) label="phoneprov, lease-binding, render-wait-ms 0";;
      hook-nopark) label="phoneprov, render-wait-ms 0";;
      hook-norender) label="phoneprov, render off";;
    esac
    printf '%-44s %10s %12s %8s\n' "$label" "$n" "$main" "$(awk -v a="$main" -v b="$base" 'BEGIN{printf "%.3f", a/b}')"
    if [ "$all" != "$main" ]; then
        printf '%-44s %10s %12s\n' "  (with the render threads)" "" "$all"
    fi
done
