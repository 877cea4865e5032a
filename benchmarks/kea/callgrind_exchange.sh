#!/usr/bin/env bash
# Instructions per DHCP exchange inside kea-dhcp4, counted by callgrind.
# usage: callgrind_exchange.sh CONFIG.json EXCHANGES CLIENTS WORKDIR [VENDOR_CLASS]
# Kea runs single-threaded under callgrind with instrumentation off while it
# starts; it is switched on for a warm-up, the counters are zeroed, and then the
# exchanges are counted (perfdhcp, loopback relay, fixed seed); off before shutdown.
# Threads are counted apart: the main thread is the DHCP path (single-threaded Kea);
# other threads are the hook's render workers.
# Prints: exchanges Ir_per_exchange_all_threads Ir_per_exchange_main_thread
# Env: BENCH_PORT (13067), BENCH_RATE (25/s), BENCH_WARMUP (20 exchanges),
#      BENCH_WARMUP_WAIT_US (3000000), BENCH_SETTLE (s), BENCH_WAIT_US (perfdhcp -W,
#      5000000), BENCH_DROP_S (perfdhcp -d, 1)
set -euo pipefail
CONFIG=$1 N=$2 CLIENTS=$3 WORK=$4 VC=${5:-yealink}
mkdir -p "$WORK"
PORT=${BENCH_PORT:-13067}
VCHEX=$(printf '%s' "$VC" | od -An -tx1 | tr -d ' \n')
out="$WORK/callgrind.$(basename "$CONFIG" .json).out"
rm -f "$out"* "$WORK/kea.log"
KEA_PIDFILE_DIR="$WORK" KEA_LOCKFILE_DIR="$WORK" \
  valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$out" \
  kea-dhcp4 -c "$CONFIG" -p "$PORT" -P "$((PORT + 1))" > "$WORK/valgrind.log" 2>&1 &
VPID=$!
trap 'kill $VPID 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  ss -Hlnu "sport = :$PORT" | grep -q . && break
  sleep 0.2
done
ss -Hlnu "sport = :$PORT" | grep -q . || { cat "$WORK/valgrind.log"; exit 1; }
# Warm-up, not counted: first-use costs (the regex engine's first DFA, Kea's own
# lazy set-up) paid once in a server's life, by clients outside the measured range.
# Instrumentation goes on before it (valgrind re-translates the code then, which makes
# the first packets very slow) and the counters are zeroed after it.
callgrind_control -i on "$VPID" > /dev/null 2>&1
W=${BENCH_WARMUP:-20}
perfdhcp -4 -l 127.0.0.1 -L "$((PORT + 1))" -N "$PORT" -r 10 -n "$W" -R "$W" -s 3 \
  -b mac=00:15:65:ff:00:00 -o "60,$VCHEX" -W "${BENCH_WARMUP_WAIT_US:-3000000}" 127.0.0.1 > "$WORK/warmup.log" 2>&1 || true
sleep "${BENCH_SETTLE:-1}"
callgrind_control -z "$VPID" > /dev/null 2>&1
# Valgrind slows Kea ~50x: a low rate, every exchange waited for.
perfdhcp -4 -l 127.0.0.1 -L "$((PORT + 1))" -N "$PORT" -r "${BENCH_RATE:-25}" -n "$N" \
  -R "$CLIENTS" -s 7 -d "${BENCH_DROP_S:-1}" -b mac=00:15:65:00:00:00 -o "60,$VCHEX" -W "${BENCH_WAIT_US:-5000000}" 127.0.0.1 \
  > "$WORK/perfdhcp.$(basename "$CONFIG" .json).log" 2>&1 || true
sleep "${BENCH_SETTLE:-2}"
callgrind_control -i off "$VPID" > /dev/null 2>&1
kill -INT "$VPID"
wait "$VPID" || true
trap - EXIT
log="$WORK/perfdhcp.$(basename "$CONFIG" .json).log"
acks=$(awk '/Statistics for: REQUEST-ACK/{f=1} f && /received packets:/{print $3; exit}' "$log")
[ -n "$acks" ] && [ "$acks" -gt 0 ] || { cat "$log"; echo "no exchange completed" >&2; exit 1; }
total=0
for f in "$out"-*; do
  t=$(awk '/^totals:/{print $2}' "$f"); total=$((total + ${t:-0}))
done
main=$(awk '/^totals:/{print $2}' "$out-01")
echo "$acks $((total / acks)) $((main / acks))"
