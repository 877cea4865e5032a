#!/usr/bin/env bash
# One benchmark runner: kea-dhcp4 driven by perfdhcp across a veth pair between two
# network namespaces this script creates, for four setups (Kea alone; Kea's own client
# class giving option 66; libdhcp_flex_option.so building a per-MAC URL; the phoneprov
# hook doing everything), single- and multi-threaded, plus callgrind instructions per
# exchange (benchmarks/kea/cost.sh's harness), a 10,000-phone boot storm, the
# 10,000-phone offline render and kea-dhcp4's resident memory with 100,000 reservations.
# Prints one table; every ratio is to Kea alone, measured within this one run.
#
# usage: benchmarks/run.sh [--smoke] [--only PARTS] [--keep]
#   --smoke   tiny rates and counts (CI: checks that every part runs and yields numbers)
#   --only    comma-separated subset of: throughput,cost,storm,render,rss
#   --keep    keep the work folder (configs, logs)
# env: BUILD_DIR (default ./build), BENCH_TRIAL_S (seconds per rate step, default 5),
#      BENCH_STORM_PHONES (10000), BENCH_STORM_REPEAT (3), BENCH_STORM_SETUPS ("alone
#      hook-norender hook hook-cold hook-current"; "hook" renders the reserved phones at
#      start-up (render-reserved) and the storm comes once Kea is idle; "hook-cold" renders
#      none before (render-reserved off): every file is written during the storm;
#      "hook-current" starts with every file already
#      rendered, as after a power cut; "hook-tuned" is "hook" with BENCH_STORM_HOOK_PARAMS merged into its
#      parameters, for experiments: '{"render-threads": 1}'), BENCH_STORM_RCVBUF (bytes: the
#      receive buffer of kea-dhcp4's DHCP socket in every storm setup, as
#      net.core.rmem_default would give it; default: the system's), BENCH_RSS_HOSTS (100000),
#      BENCH_PHONES (1000)
# Needs root (ip netns), kea-dhcp4, perfdhcp (Debian: kea-admin), valgrind, jq, and a build.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build}
HOOK=${HOOK_SO:-$BUILD_DIR/hook/libdhcp_phoneprov.so}
PHONEPROV=${PHONEPROV:-$BUILD_DIR/tools/phoneprov}
PROFILES=$SRC/profiles

SMOKE=0 KEEP=0 ONLY="throughput,cost,storm,render,rss"
while [ $# -gt 0 ]; do
    case $1 in
      --smoke) SMOKE=1;;
      --keep) KEEP=1;;
      --only) ONLY=$2; shift;;
      -h|--help) sed -n '2,16p' "$0"; exit 0;;
      *) echo "unknown argument: $1" >&2; exit 1;;
    esac
    shift
done
want() { case ",$ONLY," in *",$1,"*) return 0;; esac; return 1; }

if [ "$SMOKE" = 1 ]; then
    PHONES=${BENCH_PHONES:-40} TRIAL_S=${BENCH_TRIAL_S:-1} RATE0=50 MAX_TRIALS=1 WAIT_US=300000
    CG_N=10 CG_RATE=10 STORM=${BENCH_STORM_PHONES:-60} RENDER_N=60 RSS_HOSTS=${BENCH_RSS_HOSTS:-200}
    STORM_REPEAT=${BENCH_STORM_REPEAT:-1}
else
    PHONES=${BENCH_PHONES:-1000} TRIAL_S=${BENCH_TRIAL_S:-5} RATE0=250 MAX_TRIALS=8 WAIT_US=1000000
    CG_N=600 CG_RATE=25 STORM=${BENCH_STORM_PHONES:-10000} RENDER_N=10000 RSS_HOSTS=${BENCH_RSS_HOSTS:-100000}
    STORM_REPEAT=${BENCH_STORM_REPEAT:-3}
fi
VC=yealink
VCHEX=$(printf '%s' "$VC" | od -An -tx1 | tr -d ' \n')
BASE_MAC=00:15:65:00:00:00   # make_configs.py reserves 00:15:65:00:00:00 + i

for f in "$HOOK" "$PHONEPROV"; do
    [ -e "$f" ] || { echo "missing $f: build first (scripts/build.sh)" >&2; exit 1; }
done
for c in kea-dhcp4 perfdhcp valgrind jq ip; do
    command -v "$c" >/dev/null || { echo "missing $c: run scripts/install-deps.sh" >&2; exit 1; }
done

# --- namespaces, processes, clean-up -------------------------------------------------
# Pair k: server namespace $TAG-sK (interface bench0, 10.77.0.1/16) and client namespace
# $TAG-cK (10.77.0.2/16), joined by a veth pair. The four throughput setups run side by
# side, one pair each, so that their rate steps can be interleaved; the rest uses pair 0.
TAG="ppb$$"
NS_CG="$TAG-cg"
WORK=$(mktemp -d /tmp/phoneprov-bench.XXXXXX)
chmod 0755 "$WORK"
PIDS=()
NSS=()
SHM=""
cleanup() {
    local pid ns
    [ -z "$SHM" ] || rm -rf "$SHM"
    [ -z "${STORM_MNT:-}" ] || umount "$STORM_MNT" 2>/dev/null || umount -l "$STORM_MNT" 2>/dev/null || true
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    for ns in "${NSS[@]:-}"; do
        [ -n "$ns" ] || continue
        ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill "$pid" 2>/dev/null || true; done
    done
    sleep 0.5
    for ns in "${NSS[@]:-}"; do
        [ -n "$ns" ] || continue
        ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pair() {  # pair K: creates the namespaces and the veth pair K
    local k=$1 s="$TAG-s$1" c="$TAG-c$1"
    ip netns add "$s"; NSS+=("$s")
    ip netns add "$c"; NSS+=("$c")
    ip link add "${TAG}s$k" netns "$s" type veth peer name "${TAG}c$k" netns "$c"
    ip -n "$s" link set "${TAG}s$k" name bench0
    ip -n "$s" addr add 10.77.0.1/16 dev bench0
    ip -n "$c" addr add 10.77.0.2/16 dev "${TAG}c$k"
    ip -n "$s" link set lo up; ip -n "$c" link set lo up
    ip -n "$s" link set bench0 up; ip -n "$c" link set "${TAG}c$k" up
}
pair 0

# --smoke loads a slice of the IEEE registry (the hook starts faster, under valgrind too);
# a full run loads the whole registry, as in production.
REGISTRY_ARGS=()
if [ "$SMOKE" = 1 ]; then
    mkdir -p "$WORK/ieee"
    head -n 3000 /usr/share/ieee-data/oui.csv > "$WORK/ieee/oui.csv"
    REGISTRY_ARGS=(--registry-dir "$WORK/ieee")
fi

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

# configs DIR PHONES MT [extra make_configs args]: the four setups, served on bench0
configs() {
    local dir=$1 n=$2 mt=$3; shift 3
    mkdir -p "$dir/out"
    python3 "$SRC/benchmarks/kea/make_configs.py" "$dir" --phones "$n" --mt "$mt" \
        --hook "$HOOK" --profiles "$PROFILES" --out "$dir/out" \
        --iface bench0 --subnet 10.77.0.0/16 --pool "10.77.1.0 - 10.77.255.250" \
        "${REGISTRY_ARGS[@]}" "$@"
}

declare -A KEA_PIDS
# kea_start K CONFIG LOG: kea-dhcp4 in server namespace K
kea_start() {
    local k=$1 cfg=$2 klog=$3
    KEA_PIDFILE_DIR="$(dirname "$cfg")" KEA_LOCKFILE_DIR="$(dirname "$cfg")" \
        ip netns exec "$TAG-s$k" kea-dhcp4 -c "$cfg" > "$klog" 2>&1 &
    KEA_PIDS[$k]=$!
    PIDS+=($!)
}
# kea_ready K: waits (bounded) until Kea K serves port 67
kea_ready() {
    local k=$1 i
    for i in $(seq 1800); do
        ip netns exec "$TAG-s$k" ss -Hlnu "sport = :67" | grep -q . && return 0
        alive "${KEA_PIDS[$k]}" || break
        sleep 0.1
    done
    echo "kea-dhcp4 $k did not start" >&2
    return 1
}
# kea_idle K: waits (at most 30 s) until kea-dhcp4 K has used no CPU for 0.5 s. Kea opens
# its sockets before it has finished starting (a hook's dhcp4_srv_configured, e.g.
# phoneprov's reservation index, runs after): a storm sent at once would measure the start.
kea_idle() {
    local pid=${KEA_PIDS[$1]} i last now same=0
    last=$(cpu_of "$pid")
    for i in $(seq 300); do
        sleep 0.1
        now=$(cpu_of "$pid")
        if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; fi
        last=$now
        [ "$same" -lt 5 ] || return 0
    done
}
alive() {  # alive PID: running (an exited child stays a zombie until waited for)
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    [[ $st != Z* ]]
}
kea_stop() {  # kea_stop K
    local pid=${KEA_PIDS[$1]:-} i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null || true
    for i in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    KEA_PIDS[$1]=""
}

# perf K ARGS...: perfdhcp in client namespace K as a relay (giaddr 10.77.0.2), bounded
perf() {
    local k=$1; shift
    timeout 600 ip netns exec "$TAG-c$k" perfdhcp -4 -l 10.77.0.2 -b mac=$BASE_MAC \
        -o "60,$VCHEX" "$@" 10.77.0.1
}
stat_of() {  # stat_of LOG SECTION FIELD  (e.g. "DISCOVER-OFFER" "sent packets")
    awk -v s="Statistics for: $2" -v f="$3:" 'index($0, s){x=1} x && index($0, f)==1 {print $NF; exit}' "$1"
}

# --- (a) throughput: highest rate with at most 2.5% of exchanges failing --------------
# One trial: rate R for TRIAL_S seconds over PHONES clients; failed = 1 - ACKs/DISCOVERs.
# Search per setup: double from RATE0 until a trial fails, then bisect, until the bracket
# is within 5% or MAX_TRIALS; the setups' trials are interleaved round by round, so that
# the machine's load drifts over all of them alike, and a failed step is repeated once
# (it fails only when it fails twice). Result: ACKs per second in the best passing trial.
trial() {  # trial K RATE LOG -> prints "ok|fail acks_per_s failed_pct"
    local k=$1 r=$2 l=$3
    perf "$k" -r "$r" -p "$TRIAL_S" -R "$PHONES" -W "$WAIT_US" > "$l" 2>&1 || true
    local sent acks
    sent=$(stat_of "$l" DISCOVER-OFFER "sent packets") acks=$(stat_of "$l" REQUEST-ACK "received packets")
    sent=${sent:-0} acks=${acks:-0}
    awk -v s="$sent" -v a="$acks" -v t="$TRIAL_S" 'BEGIN{
        f = s > 0 ? 100 * (1 - a / s) : 100;
        printf "%s %.1f %.2f\n", (s > 0 && f <= 2.5) ? "ok" : "fail", a / t, f}'
}
declare -A LO HI RATE BEST NTRIALS
search_rates() {  # search_rates MT: sets TPUT_ST or TPUT_MT for every setup
    local mt=$1 s k v tput f active=1 d="$WORK/tput-mt$1"
    for s in "${SETUPS[@]}"; do LO[$s]=0 HI[$s]=0 RATE[$s]=$RATE0 BEST[$s]=0 NTRIALS[$s]=0; done
    while [ "$active" = 1 ]; do
        active=0
        k=0
        for s in "${SETUPS[@]}"; do
            k=$((k + 1))
            [ "${NTRIALS[$s]}" -lt "$MAX_TRIALS" ] || continue
            active=1
            NTRIALS[$s]=$((NTRIALS[$s] + 1))
            local r=${RATE[$s]}
            read -r v tput f < <(trial "$k" "$r" "$d/$s.rate$r.log")
            log "  $s, threads $mt: rate $r -> $v ($tput ACK/s, $f% failed)"
            if [ "$v" = fail ] && [ "$SMOKE" = 0 ]; then
                # this machine is shared: a step fails only when it fails twice in a row
                read -r v tput f < <(trial "$k" "$r" "$d/$s.rate$r.again.log")
                log "  $s, threads $mt: rate $r again -> $v ($tput ACK/s, $f% failed)"
            fi
            if [ "$v" = ok ]; then
                LO[$s]=$r
                BEST[$s]=$(awk -v a="${BEST[$s]}" -v b="$tput" 'BEGIN{print (b > a) ? b : a}')
                if [ "${HI[$s]}" = 0 ]; then r=$((r * 2)); else r=$(((LO[$s] + HI[$s]) / 2)); fi
            else
                HI[$s]=$r
                if [ "${LO[$s]}" = 0 ]; then r=$((r / 2)); else r=$(((LO[$s] + HI[$s]) / 2)); fi
            fi
            RATE[$s]=$r
            if [ "$r" -lt 5 ] || { [ "${LO[$s]}" -gt 0 ] && [ "${HI[$s]}" -gt 0 ] &&
                                   [ $((HI[$s] - LO[$s])) -le $((LO[$s] / 20 + 1)) ]; }; then
                NTRIALS[$s]=$MAX_TRIALS
            fi
        done
    done
    for s in "${SETUPS[@]}"; do
        if [ "$mt" = 0 ]; then TPUT_ST[$s]=${BEST[$s]}; else TPUT_MT[$s]=${BEST[$s]}; fi
    done
}

SETUPS=(alone class66 flex hook)
declare -A LABEL=([alone]="Kea alone" [class66]="client class, option 66"
                  [flex]="flex_option, per-MAC URL" [hook]="phoneprov hook (all)")
declare -A TPUT_ST TPUT_MT

# --- (b) instructions per exchange: benchmarks/kea/callgrind_exchange.sh -------------
# In a namespace of its own, so that its loopback ports are private to this run. With
# --smoke the four setups run at once, in the background, while the rest runs.
declare -A IR
cost_one() {  # cost_one SETUP PORT: writes the main thread's Ir per exchange to cost/SETUP.ir
    local s=$1 d="$WORK/cost" main=""
    read -r _ _ main < <(BENCH_PORT=$2 BENCH_WARMUP=$([ "$SMOKE" = 1 ] && echo 2 || echo 20) \
        BENCH_WARMUP_WAIT_US=$([ "$SMOKE" = 1 ] && echo 6000000 || echo 3000000) \
        BENCH_SETTLE=$([ "$SMOKE" = 1 ] && echo 0.5 || echo 2) BENCH_RATE=$CG_RATE \
        BENCH_WAIT_US=$([ "$SMOKE" = 1 ] && echo 10000000 || echo 5000000) \
        BENCH_DROP_S=$([ "$SMOKE" = 1 ] && echo 10 || echo 1) \
        timeout 900 ip netns exec "$NS_CG" "$SRC/benchmarks/kea/callgrind_exchange.sh" \
        "$d/$s.json" "$CG_N" "$CG_N" "$d/run-$s" "$VC" 2> "$d/$s.err" | tail -n 1) || true
    case $main in ''|*[!0-9]*) main="";; esac
    echo "$main" > "$d/$s.ir"
}
COST_JOBS=()
if want cost; then
    ip netns add "$NS_CG"; NSS+=("$NS_CG")
    ip -n "$NS_CG" link set lo up
    mkdir -p "$WORK/cost/out"
    python3 "$SRC/benchmarks/kea/make_configs.py" "$WORK/cost" --phones "$CG_N" \
        --hook "$HOOK" --profiles "$PROFILES" --out "$WORK/cost/out" "${REGISTRY_ARGS[@]}"
    port=13067
    for s in "${SETUPS[@]}"; do
        port=$((port + 10))
        if [ "$SMOKE" = 1 ]; then
            cost_one "$s" "$port" &
            COST_JOBS+=($!)
            PIDS+=($!)
        fi
    done
fi
collect_cost() {
    want cost || return 0
    local s port=13067
    if [ "$SMOKE" = 1 ]; then
        for s in "${COST_JOBS[@]}"; do wait "$s" || true; done
    else
        for s in "${SETUPS[@]}"; do
            port=$((port + 10))
            log "callgrind: $s"
            cost_one "$s" "$port"
        done
    fi
    for s in "${SETUPS[@]}"; do IR[$s]=$(cat "$WORK/cost/$s.ir" 2>/dev/null || true); done
}


if want throughput; then
    for k in 1 2 3 4; do pair "$k"; done
    for mt in 0 2; do
        d="$WORK/tput-mt$mt"
        configs "$d" "$PHONES" "$mt"
        log "throughput, threads $mt: starting the four setups"
        k=0
        for s in "${SETUPS[@]}"; do k=$((k + 1)); kea_start "$k" "$d/$s.json" "$d/$s.kea.out"; done
        k=0
        for s in "${SETUPS[@]}"; do
            k=$((k + 1))
            kea_ready "$k" || { cat "$d/$s.kea.out" >&2; exit 1; }
            # warm-up: every client's first exchange (and its render) before the trials
            [ "$SMOKE" = 1 ] || perf "$k" -r "$RATE0" -n "$PHONES" -R "$PHONES" -W "$((WAIT_US * 2))" \
                > "$d/$s.warmup.log" 2>&1 || true
        done
        search_rates "$mt"
        for k in 1 2 3 4; do kill "${KEA_PIDS[$k]}" 2>/dev/null || true; done
        for k in 1 2 3 4; do kea_stop "$k"; done
    done
fi

# --- boot storm: every phone at once, across vendors ----------------------------------
# STORM phones of five vendors (MAC prefix, option 60 with the model, a reservation each)
# boot at once: one perfdhcp --scenario avalanche per vendor, each in its own client
# namespace on a bridge in front of Kea, all started together. Reported: the time until
# every phone has its ACK and, rendering on, its complete file (the output folder equals
# what `phoneprov render` writes for the same reservations, byte for byte, polled every
# 0.1 s), and Kea's CPU time over the storm. perfdhcp's back-off doubles up to tens of
# seconds, so one packet dropped in a late round moves "all" by a whole round (33 s or 65 s
# for the same setup): each setup runs STORM_REPEAT times, interleaved, and the median is
# reported with every run. Kea's CPU time does not depend on the rounds.
STORM_GROUPS=(
    "yealink|00:15:65|yealink|"
    "grandstream|00:0b:82|Grandstream GXP1628 dslforum.org|GXP1628"
    "polycom|00:04:f2|Polycom-VVX310|VVX310"
    "snom|00:04:13|snomD785|D785"
    "cisco-mpp|00:26:99|Cisco Systems, Inc. IP Phone CP-7841-3PCC|CP-7841-3PCC"
)
declare -A STORM_T STORM_RUNS STORM_CPU STORM_TPUT STORM_FILES
ref_render() {  # ref_render CONFIG DIR -> "wall_s cpu_s" to render every reservation offline
    local cfg=$1 dir=$2 t TIMEFORMAT='%R %U %S'
    rm -rf "$dir"; mkdir -p "$dir"
    t=$( { time "$PHONEPROV" render --config "$cfg" --output "$dir" --quiet 2> "$dir.log"; } 2>&1 )
    awk -v t="$t" 'BEGIN{split(t, a, " "); printf "%.2f %.2f\n", a[1], a[2] + a[3]}'
}
files_of() { find "$1" \( -path "*/.phoneprov-tmp" -o -path "*/.phoneprov-state" \) -prune -o -type f -print | wc -l; }
threads_cpu_of() {  # threads_cpu_of PID: user + system seconds so far of every thread but the main one
    local t hz
    hz=$(getconf CLK_TCK)
    for t in /proc/"$1"/task/*; do
        [ "${t##*/}" != "$1" ] || continue
        awk '{sub(/^.*\) /, ""); print $12 + $13}' "$t/stat" 2>/dev/null
    done | awk -v hz="$hz" '{s += $1} END {printf "%.2f", s / hz}'
}
cpu_of() {  # cpu_of PID: user + system seconds so far
    awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$1/stat"
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }
# storm_net: server namespace $TAG-st with a bridge bench0 (10.77.0.1/16), one client
# namespace $TAG-ctG per vendor group (10.77.0.(2+G)/16), each on a veth to the bridge.
storm_net() {
    local s="$TAG-st" g c
    ip netns add "$s"; NSS+=("$s")
    ip -n "$s" link set lo up
    ip -n "$s" link add bench0 type bridge
    ip -n "$s" addr add 10.77.0.1/16 dev bench0
    ip -n "$s" link set bench0 up
    for g in "${!STORM_GROUPS[@]}"; do
        c="$TAG-ct$g"
        ip netns add "$c"; NSS+=("$c")
        ip link add "${TAG}t$g" netns "$s" type veth peer name "${TAG}u$g" netns "$c"
        ip -n "$s" link set "${TAG}t$g" master bench0 up
        ip -n "$c" addr add "10.77.0.$((2 + g))/16" dev "${TAG}u$g"
        ip -n "$c" link set lo up; ip -n "$c" link set "${TAG}u$g" up
    done
}
# storm_once SETUP ROUND: one storm against a fresh Kea; records time, CPU, files
storm_once() {
    local s=$1 r=$2 g oui vc per pids=() t0 t1 c0 c1 w0 w1 acks=0 a files="-" t early drops pre
    per=$((STORM / ${#STORM_GROUPS[@]}))
    # A fresh output folder each round, the last one moved aside, not deleted (see STORM_FS)
    if [ -d "$OUT" ]; then mkdir -p "$OUT.old"; mv "$OUT" "$(mktemp -d "$OUT.old/out.XXXXXX")"; fi
    mkdir -p "$OUT"
    # hook-current (and hook-tuned-current): every phone's files already there as rendered (phones that boot again
    # after a power cut, or a fleet pre-rendered with `phoneprov render`)
    case $s in *-current) cp -a "$d/ref/." "$OUT/";; esac
    : > "$d/kea.log"; : > "$d/phoneprov.log"
    kea_start t "$d/$s.json" "$d/$s.$r.kea.out"
    kea_ready t || { cat "$d/$s.$r.kea.out" >&2; exit 1; }
    kea_idle t
    if [ -n "$STORM_RCVBUF" ]; then  # every setup alike, Kea alone included
        python3 "$SRC/benchmarks/kea/rcvbuf.py" "${KEA_PIDS[t]}" "$STORM_RCVBUF" >> "$d/$s.$r.kea.out"
    fi
    # Every setup starts from a clean page cache: nothing dirty left to write back
    # during the storm (hook-current's copy, the files rendered before it; on the loop-
    # mounted file system, the image file's own pages too), which would take CPU from
    # Kea on this 2-core machine in those setups only.
    sync
    # render-reserved: what Kea did before the storm (kea_idle waited for it)
    pre=$(sed -n 's/.*PHONEPROV_RESERVED_DONE phoneprov rendered the \([0-9]*\) reserved phones.*, in \([0-9.]*\) s.*/\1 phones in \2 s/p' \
          "$d/phoneprov.log" 2>/dev/null | tail -n 1)
    [ -z "$pre" ] || STORM_PRE[$s]="${STORM_PRE[$s]:-} $pre (Kea CPU until then $(cpu_of "${KEA_PIDS[t]}") s);"
    c0=$(cpu_of "${KEA_PIDS[t]}")
    w0=$(threads_cpu_of "${KEA_PIDS[t]}")
    t0=$(date +%s.%N)
    for g in "${!STORM_GROUPS[@]}"; do
        IFS='|' read -r _ oui vc _ <<< "${STORM_GROUPS[$g]}"
        timeout 600 ip netns exec "$TAG-ct$g" perfdhcp -4 -l "10.77.0.$((2 + g))" \
            -b "mac=$oui:00:00:00" -o "60,$(printf '%s' "$vc" | od -An -tx1 | tr -d ' \n')" \
            --scenario avalanche -R "$per" 10.77.0.1 > "$d/$s.$r.$g.storm.log" 2>&1 &
        pids+=($!)
    done
    for g in "${pids[@]}"; do wait "$g" || true; done
    t1=$(date +%s.%N)
    for g in "${!STORM_GROUPS[@]}"; do
        a=$(stat_of "$d/$s.$r.$g.storm.log" REQUEST-ACK "received packets")
        acks=$((acks + ${a:-0}))
    done
    if [ "$s" != alone ] && [ "$s" != hook-norender ]; then
        # bounded wait for the last file (the ACKs already waited for theirs by default)
        for _ in $(seq 1200); do
            [ "$(files_of "$OUT")" -ge "$want_files" ] && break
            sleep 0.1
        done
        t1=$(date +%s.%N)
        early=$(grep -c PHONEPROV_UNPARK_TIMEOUT "$d/kea.log" 2>/dev/null || true)
        if diff -rq -x .phoneprov-tmp -x .phoneprov-state "$d/ref" "$OUT" > "$d/storm.diff" 2>&1; then
            files="$want_files/$want_files; ${early:-0} ACKs left before their file (render-wait-ms)"
        else
            files="$(files_of "$OUT")/$want_files (incomplete: $(wc -l < "$d/storm.diff") differ)"
        fi
        # the worst round counts
        case ${STORM_FILES[$s]:-} in *incomplete*) ;; *) STORM_FILES[$s]=$files;; esac
    fi
    c1=$(cpu_of "${KEA_PIDS[t]}")
    w1=$(threads_cpu_of "${KEA_PIDS[t]}")
    # packets the kernel dropped because Kea's socket buffer was full (Kea is new each round)
    drops=$(ip netns exec "$TAG-st" awk 'NR > 1 && $2 ~ /:0043$/ {d += $NF} END {print d + 0}' /proc/net/udp)
    kea_stop t
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}')
    # each vendor's perfdhcp: seconds until its last phone had its ACK
    local took=""
    for g in "${!STORM_GROUPS[@]}"; do
        took+="$(sed -n 's/^It took \([0-9]*\):\([0-9]*\):\([0-9.]*\) .*/\1 \2 \3/p' "$d/$s.$r.$g.storm.log" |
                 awk '{printf "%.0f", $1 * 3600 + $2 * 60 + $3}')/"
    done
    log "  $s round $r: $t s, Kea CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}') s, $acks ACKs," \
        "per vendor ${took%/} s, $drops packets dropped at Kea's socket"
    STORM_DROPS[$s]="${STORM_DROPS[$s]:-} $drops"
    STORM_VENDORS[$s]="${STORM_VENDORS[$s]:-} ${took%/}"
    [ "$acks" -ge "$((per * ${#STORM_GROUPS[@]}))" ] || STORM_SHORT[$s]="only $acks ACKs in round $r"
    STORM_RUNS[$s]="${STORM_RUNS[$s]:-} $t"
    STORM_CPUS[$s]="${STORM_CPUS[$s]:-} $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b - a}')"
    # of which Kea's other threads (the render workers; Kea alone has none busy)
    STORM_OTHER[$s]="${STORM_OTHER[$s]:-} $(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.2f", b - a}')"
}

STORM_RCVBUF=${BENCH_STORM_RCVBUF:-}
# The storm's output folder is on a file system of its own, made for this run (a sparse
# ext4 image, loop-mounted), when this machine can: ext4 does not reuse an inode freed within
# the last 60 s (300 s when its block is dirty), and find_inode_bit -> recently_deleted
# walks past every such inode for each new file. On the shared root file system, the files
# deleted by the previous round or run (or by anyone else) made the render workers' system
# time 3 to 4 times larger (5.4 s against 1.4 s for 12,008 files), a cost of the runner and
# of the neighbours, not of a phone fleet; and syncfs() there also flushed everyone else's
# writes. BENCH_STORM_FS=shared keeps the output folder in the work folder instead.
STORM_FS=${BENCH_STORM_FS:-own}
STORM_MNT=""
if want storm; then
    d="$WORK/storm"
    declare -A STORM_SHORT STORM_CPUS STORM_DROPS STORM_VENDORS STORM_PRE STORM_OTHER
    storm_net
    OUT="$d/out"
    if [ "$STORM_FS" = own ] && command -v mkfs.ext4 >/dev/null; then
        mkdir -p "$d/fs"
        truncate -s 8G "$d/fs.img"
        if mkfs.ext4 -q -F -i 8192 "$d/fs.img" && mount -o loop "$d/fs.img" "$d/fs"; then
            STORM_MNT="$d/fs"; OUT="$d/fs/out"
        else
            echo "storm: no loop-mounted file system here; the output folder stays in $d" >&2
            STORM_FS=shared
        fi
    else
        STORM_FS=shared
    fi
    printf '[' > "$d.groups.json"
    for g in "${!STORM_GROUPS[@]}"; do
        IFS='|' read -r v oui _ m <<< "${STORM_GROUPS[$g]}"
        printf '%s{"vendor": "%s", "oui": "%s", "model": "%s"}' "$([ "$g" = 0 ] || echo ,)" "$v" "$oui" "$m" >> "$d.groups.json"
    done
    echo ']' >> "$d.groups.json"
    configs "$d" "$STORM" 0 --groups "$d.groups.json"
    jq --arg o "$OUT" '.Dhcp4["hooks-libraries"][0].parameters["output-dir"] = $o' "$d/hook.json" > "$d/hook.json.new"
    mv "$d/hook.json.new" "$d/hook.json"
    # experiments: setup "hook-tuned" is "hook" with BENCH_STORM_HOOK_PARAMS merged in
    tuned=${BENCH_STORM_HOOK_PARAMS:-}; [ -n "$tuned" ] || tuned='{}'
    jq --argjson p "$tuned" '.Dhcp4["hooks-libraries"][0].parameters += $p' \
        "$d/hook.json" > "$d/hook-tuned.json"
    cp "$d/hook.json" "$d/hook-current.json"
    jq '.Dhcp4["hooks-libraries"][0].parameters["render-reserved"] = false' "$d/hook.json" > "$d/hook-cold.json"
    cp "$d/hook-tuned.json" "$d/hook-tuned-current.json"
    jq '.Dhcp4["hooks-libraries"][0].parameters.render = false' "$d/hook.json" > "$d/hook-norender.json"
    log "storm: reference render of $STORM phones"
    STORM_REF=$(ref_render "$d/hook.json" "$d/ref")
    want_files=$(files_of "$d/ref")
    for r in $(seq "$STORM_REPEAT"); do
        for s in ${BENCH_STORM_SETUPS:-alone hook-norender hook hook-cold hook-current}; do
            log "storm: $s, $STORM phones of ${#STORM_GROUPS[@]} vendors, round $r of $STORM_REPEAT"
            storm_once "$s" "$r"
        done
    done
    rm -rf "$OUT.old"
    for s in alone hook-norender hook hook-cold hook-current hook-tuned hook-tuned-current; do
        [ -n "${STORM_RUNS[$s]:-}" ] || continue
        STORM_T[$s]=$(echo "${STORM_RUNS[$s]}" | median)
        STORM_CPU[$s]=$(echo "${STORM_CPUS[$s]}" | median)
        STORM_TPUT[$s]=$(awk -v n="$STORM" -v t="${STORM_T[$s]}" 'BEGIN{if (t > 0) printf "%.0f", n / t; else print 0}')
        [ -z "${STORM_SHORT[$s]:-}" ] || STORM_T[$s]="${STORM_T[$s]} (${STORM_SHORT[$s]})"
    done
fi

# --- issue 5: N phones rendered offline from reservations ------------------------------
# Into the work folder (on disk: every file is fsync'ed) and into a tmpfs (/dev/shm, where
# fsync costs nothing), to tell the disk's share from the CPU's.
RENDER_T="" RENDER_SHM=""
if want render; then
    d="$WORK/render"
    configs "$d" "$RENDER_N" 0
    log "render: $RENDER_N phones with phoneprov render"
    RENDER_T=$(ref_render "$d/hook.json" "$d/ref")
    RENDER_FILES=$(files_of "$d/ref")
    if [ -d /dev/shm ]; then
        SHM=$(mktemp -d /dev/shm/phoneprov-bench.XXXXXX)
        RENDER_SHM=$(ref_render "$d/hook.json" "$SHM/ref")
        rm -rf "$SHM"
    fi
fi

# --- issue 5: resident memory with RSS_HOSTS reservations and the full IEEE registry ---
declare -A RSS HWM
if want rss; then
    d="$WORK/rss"
    configs "$d" "$RSS_HOSTS" 0
    for s in alone hook; do
        log "rss: $s with $RSS_HOSTS reservations"
        kea_start 0 "$d/$s.json" "$d/$s.kea.out"
        kea_ready 0 || { cat "$d/$s.kea.out" >&2; exit 1; }
        # Kea serves before the hook has indexed the reservations (dhcp4_srv_configured):
        # the steady state is when VmRSS has not moved for 2 s (polled every 0.5 s, at
        # most 120 s); VmHWM is the peak, while the configuration was being read.
        prev="" same=0
        for _ in $(seq 240); do
            now=$(awk '/^VmRSS/{print $2}' "/proc/${KEA_PIDS[0]}/status")
            if [ "$now" = "$prev" ]; then same=$((same + 1)); else same=0; fi
            [ "$same" -ge 4 ] && break
            prev=$now
            sleep 0.5
        done
        RSS[$s]=$(awk '/^VmRSS/{printf "%.1f", $2 / 1024}' "/proc/${KEA_PIDS[0]}/status")
        HWM[$s]=$(awk '/^VmHWM/{printf "%.1f", $2 / 1024}' "/proc/${KEA_PIDS[0]}/status")
        kea_stop 0
    done
fi

collect_cost

# --- the table -------------------------------------------------------------------------
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN{if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a / b; else print "-"}'; }
echo
echo "kea-phoneprov benchmarks ($(date -u '+%F %H:%M UTC'), $(nproc) cores, $([ "$SMOKE" = 1 ] && echo smoke || echo full); ratios to Kea alone, this run)"
if want throughput || want cost; then
    printf '%-28s %12s %7s %12s %7s %12s %7s\n' "setup" "ST ACK/s" "ratio" "MT2 ACK/s" "ratio" "Ir/exchange" "ratio"
    for s in "${SETUPS[@]}"; do
        printf '%-28s %12s %7s %12s %7s %12s %7s\n' "${LABEL[$s]}" \
            "${TPUT_ST[$s]:--}" "$(ratio "${TPUT_ST[$s]:-}" "${TPUT_ST[alone]:-}")" \
            "${TPUT_MT[$s]:--}" "$(ratio "${TPUT_MT[$s]:-}" "${TPUT_MT[alone]:-}")" \
            "${IR[$s]:--}" "$(ratio "${IR[$s]:-}" "${IR[alone]:-}")"
    done
    echo "(throughput: highest perfdhcp rate with <= 2.5% of DORA exchanges failing, $PHONES phones" \
         "with reservations, ${TRIAL_S}s steps; Ir: callgrind, single-threaded, $CG_N exchanges)"
fi
if want storm; then
    echo
    printf '%-24s %8s %6s %-20s %8s %6s %6s %6s  %s\n' "boot storm, $STORM phones" "all, s" "ratio" \
        "(each round)" "Kea CPU" "ratio" "ACK/s" "ratio" "files complete"
    for s in alone hook-norender hook hook-cold hook-current hook-tuned hook-tuned-current; do
        [ -n "${STORM_RUNS[$s]:-}" ] || continue
        case $s in alone) l="Kea alone";; hook-norender) l="phoneprov, render off";; hook) l="phoneprov, render on";;
                   hook-cold) l="render on, none before";;
                   hook-current) l="render on, files current";; hook-tuned) l="render on, tuned";;
                   hook-tuned-current) l="tuned, files current";; esac
        printf '%-24s %8s %6s %-20s %8s %6s %6s %6s  %s\n' "$l" "${STORM_T[$s]}" \
            "$(ratio "${STORM_T[$s]%% *}" "${STORM_T[alone]:-}")" "($(echo ${STORM_RUNS[$s]} | tr ' ' '/'))" \
            "${STORM_CPU[$s]}" "$(ratio "${STORM_CPU[$s]}" "${STORM_CPU[alone]:-}")" "${STORM_TPUT[$s]}" \
            "$(ratio "${STORM_TPUT[$s]}" "${STORM_TPUT[alone]:-}")" "${STORM_FILES[$s]:--}"
    done
    for s in alone hook-norender hook hook-cold hook-current hook-tuned hook-tuned-current; do
        [ -n "${STORM_RUNS[$s]:-}" ] || continue
        echo "  $s: per vendor (s, each round):${STORM_VENDORS[$s]}; dropped at Kea's socket:${STORM_DROPS[$s]};" \
             "Kea CPU beyond its main thread (s, each round):${STORM_OTHER[$s]}"
        [ -z "${STORM_PRE[$s]:-}" ] ||
            echo "    before the storm (render-reserved), each round: ${STORM_PRE[$s]# }"
    done
    if [ "$STORM_FS" = own ]; then echo "(the output folder on an ext4 file system made for this run)"
    else echo "(the output folder in the work folder's file system, shared)"; fi
    [ -z "$STORM_RCVBUF" ] || echo "(kea-dhcp4's DHCP socket given a receive buffer of $STORM_RCVBUF bytes in every setup)"
    echo "(${#STORM_GROUPS[@]} vendors at once, one perfdhcp avalanche each; all: median of $STORM_REPEAT rounds" \
         "until every phone has its ACK and, rendering on, every file is complete; Kea CPU: user+system" \
         "seconds of kea-dhcp4 over the storm, median; ACK/s: phones / median all)"
fi
if want render; then
    echo
    read -r rw rc <<< "$RENDER_T"
    echo "phoneprov render, $RENDER_N phones from reservations ($RENDER_FILES files, fsync'ed):" \
         "${rw} s (CPU ${rc} s)"
    if [ -n "$RENDER_SHM" ]; then
        read -r rw rc <<< "$RENDER_SHM"
        echo "  the same into a tmpfs: ${rw} s (CPU ${rc} s)"
    fi
fi
if want rss; then
    echo "kea-dhcp4 RSS with $RSS_HOSTS reservations, once steady: alone ${RSS[alone]:--} MB," \
         "with phoneprov ($([ "$SMOKE" = 1 ] && echo "a slice of" || echo "the full") IEEE registry) ${RSS[hook]:--} MB;" \
         "the hook's share $(awk -v a="${RSS[alone]:-0}" -v b="${RSS[hook]:-0}" 'BEGIN{printf "%.1f", b - a}') MB" \
         "(peak while loading: alone ${HWM[alone]:--} MB, with phoneprov ${HWM[hook]:--} MB)"
fi

# --smoke: every part must have produced a number
if [ "$SMOKE" = 1 ]; then
    bad=0
    for s in "${SETUPS[@]}"; do
        if want throughput; then
            [ "$(ratio "${TPUT_ST[$s]:-}" 1)" != - ] || { echo "no single-threaded throughput for $s" >&2; bad=1; }
            [ "$(ratio "${TPUT_MT[$s]:-}" 1)" != - ] || { echo "no multi-threaded throughput for $s" >&2; bad=1; }
        fi
        if want cost; then
            [ "$(ratio "${IR[$s]:-}" 1)" != - ] || { echo "no instruction count for $s" >&2; bad=1; }
        fi
    done
    if want storm; then
        for s in alone hook-norender hook; do
            case ${STORM_T[$s]:-x} in *only*|x) echo "storm $s: not every phone got its ACK" >&2; bad=1;; esac
        done
        case ${STORM_FILES[hook]:-x} in *incomplete*|x) echo "storm: files incomplete" >&2; bad=1;; esac
    fi
    if want render; then [ "$(ratio "${RENDER_T%% *}" 1)" != - ] || { echo "no render time" >&2; bad=1; }; fi
    if want rss; then
        [ "$(ratio "${RSS[alone]:-}" 1)" != - ] && [ "$(ratio "${RSS[hook]:-}" 1)" != - ] \
            || { echo "no RSS" >&2; bad=1; }
    fi
    [ "$bad" = 0 ] && echo "smoke: every part ran and produced numbers"
    exit "$bad"
fi
