#!/usr/bin/env bash
# Issue 11: a Kea high-availability pair (libdhcp_ha.so + libdhcp_lease_cmds.so, load
# balancing) in network namespaces made for the test, both peers loading the hook with
# the same parameters (kea-config/ha-peer1.json, ha-peer2.json) and reading the phones'
# reservations from one real PostgreSQL hosts database.
#
#   pp-ha-PID-db  PostgreSQL 192.0.2.30 and the bridge joining everything
#   pp-ha-PID-a   kea-dhcp4 peer1 192.0.2.1 (HA listener :8000), nginx :8080 on its output-dir
#   pp-ha-PID-b   kea-dhcp4 peer2 192.0.2.2 (HA listener :8000), nginx :8080 on its output-dir
#   pp-ha-PID-c   the phones' relay 10.20.0.1 (192.0.2.10 on the server LAN):
#                 `phoneprov simulate`, perfdhcp and curl run here
#
# Checks: each phone is answered by one peer (option 54 tells which; both peers answer
# some), gets its reserved address and the hook's options; its per-device file, fetched
# over HTTP from the peer that answered, holds its reservation's credentials, and the other
# peer's nginx serves the same bytes through its fall-back to the partner (docs/ha.md);
# common files are byte-identical on both peers; perfdhcp is answered for about half of
# its clients by one peer. Then peer1 is killed (by PID): peer2 detects it and goes partner-down, answers
# every phone (those peer1 served too) with the same option bytes, and renders files
# byte-identical to what peer1 served; perfdhcp is answered for all its clients. Last,
# peer1 comes back with an empty output-dir, syncs its leases, both load-balance as
# before; peer2 is killed and peer1 serves every phone, with the same options and files.
#
# PP_HA_MODE=hot-standby runs the same with the examples' hot-standby variant (docs/ha.md):
# peer1 answers every phone until it dies, peer2 (standby) none. CI runs load-balancing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"
pp_setup
command -v perfdhcp >/dev/null || pp_fail "perfdhcp is not installed (kea-admin)"
HA_SO=${HA_SO:-/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ha.so}
[ -f "$HA_SO" ] || pp_fail "libdhcp_ha.so not found (kea-dhcp4-server)"
T0=$(date +%s)
MODE=${PP_HA_MODE:-load-balancing}
case "$MODE" in load-balancing|hot-standby) ;; *) pp_fail "PP_HA_MODE: $MODE";; esac

T=pp-ha-$$
NS_A=$T-a NS_B=$T-b NS_DB=$T-db NS_C=$T-c
NSS=()
ha_cleanup() {
    pp_cleanup
    local ns pid
    for ns in "${NSS[@]:-}"; do
        [ -n "$ns" ] || continue
        # Anything still running inside a namespace this test made was started by it.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
}
trap ha_cleanup EXIT
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# --- The network: one bridge in the db namespace, a veth from each other namespace.
for ns in "$NS_DB" "$NS_A" "$NS_B" "$NS_C"; do
    ip netns add "$ns"
    NSS+=("$ns")
    ip -n "$ns" link set lo up
done
ip -n "$NS_DB" link add br0 type bridge
ip -n "$NS_DB" link set br0 up
ip -n "$NS_DB" addr add 192.0.2.30/24 dev br0
join() {  # NS PORT-NAME ADDR
    ip -n "$1" link add eth0 type veth peer name "$2" netns "$NS_DB"
    ip -n "$NS_DB" link set "$2" master br0 up
    ip -n "$1" addr add "$3/24" dev eth0
    ip -n "$1" link set eth0 up
}
join "$NS_A" pa 192.0.2.1
join "$NS_B" pb 192.0.2.2
join "$NS_C" pc 192.0.2.10
# The relay's address on the voice VLAN (giaddr); the peers route the VLAN through it.
ip -n "$NS_C" addr add 10.20.0.1/22 dev eth0
ip -n "$NS_A" route add 10.20.0.0/22 via 192.0.2.10
ip -n "$NS_B" route add 10.20.0.0/22 via 192.0.2.10
for _ in $(seq 50); do  # the bridge forwards on all three ports (no STP: at once)
    [ "$(bridge -n "$NS_DB" link show | grep -c 'state forwarding')" = 3 ] && break
    sleep 0.1
done

# --- The hosts database, and the phones' reservations in it (nowhere else).
pp_pg_start 192.0.2.30 "$NS_DB"
pp_log "PostgreSQL ready after $(($(date +%s) - T0)) s"
PHONES=(  # MAC VENDOR-CLASS RESERVED-ADDRESS USER
    "00:15:65:a0:00:01 Yealink_T46S 10.20.1.11 1001"
    "00:15:65:a0:00:02 yealink 10.20.1.12 1002"
    "00:15:65:a0:00:03 yealink 10.20.1.13 1003"
    "00:15:65:a0:00:04 Yealink_T54W 10.20.1.14 1004"
    "00:0b:82:a0:00:05 Grandstream_GXP1628_dslforum.org 10.20.1.15 1005"
    "00:0b:82:a0:00:06 Grandstream_GXP1628_dslforum.org 10.20.1.16 1006"
    "00:04:13:a0:00:07 snom360 10.20.1.17 1007"
    "00:04:13:a0:00:08 snom360 10.20.1.18 1008"
)
ctx() { printf '{"phoneprov": {"sip-server": "10.20.0.5", "accounts": [{"user": "%s", "password": "pw-%s-s3cret", "display-name": "Phone %s"}]}}' "$1" "$1" "$1"; }
for p in "${PHONES[@]}"; do
    read -r mac vc ip user <<<"$p"
    pp_pg_add_host "$mac" "$ip" 1 "phone-$user" "$(ctx "$user")"
done
[ "$(pp_pg_sql 'SELECT count(*) FROM hosts')" = "${#PHONES[@]}" ] || pp_fail "reservations in PostgreSQL"

# --- The two peers: the examples as they are, but for paths, the database's port and
# password, HA timers short enough for a test, and one per-model variable (the same on
# both peers): it belongs in the T54W's model file, never in the common
# y000000000000.cfg, whichever phone made a peer render that.
FW_T54W=http://phoneprov.example.net:8080/fw/T54W.rom
peer_config() {  # NAME
    local d="$WORK/$1" src
    src="$SOURCE_DIR/kea-config/ha-$1.json"
    mkdir -p "$d"
    install -d -m 0750 -o root -g "$PP_GROUP" "$d/out"
    # One site key for both peers (docs/ha.md): the same token, folder and options.
    [ -e "$WORK/site.key" ] || "$PHONEPROV" keygen --out "$WORK/site.key" > /dev/null
    python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$src" "$d/adapted.json" --work "$d" \
        --out "$d/out" --hook "$HOOK_SO" --profiles "$PROFILES_DIR" --pg-port "$PG_PORT" \
        --pg-password "$PG_PASSWORD" --key-file "$WORK/site.key"
    jq '
        (.Dhcp4["hooks-libraries"][] | select(.library | test("libdhcp_ha")) | .parameters["high-availability"][0])
            |= (. + {"heartbeat-delay": 500, "max-response-delay": 1500, "max-ack-delay": 500,
                     "max-unacked-clients": 0, "mode": $mode}
                | if $mode == "hot-standby" then .peers[1].role = "standby" else . end)
        | (.Dhcp4["hooks-libraries"][] | select(.library | test("libdhcp_(ha|lease_cmds)")) | .library)
            |= ("'"$(dirname "$HA_SO")"'/" + (split("/") | last))
        | (.Dhcp4["hooks-libraries"][] | select(.library | test("libdhcp_phoneprov")) | .parameters.vendors)
            |= {"yealink": {"models": {"T54W": {"variables": {"firmware-url": $fw}}}}}
        ' --arg mode "$MODE" --arg fw "$FW_T54W" "$d/adapted.json" > "$d/kea.json"
    # The reservations are in PostgreSQL only.
    [ "$(jq '[.Dhcp4.subnet4[].reservations // empty] | length' "$d/kea.json")" = 0 ] \
        || pp_fail "$src has reservations of its own"
}
peer_config peer1
peer_config peer2
# Same hook parameters on both peers, and the same reservations source (each peer has its
# own output-dir and phone records, here in its own work folder).
for key in '.Dhcp4["hooks-libraries"][] | select(.library | test("phoneprov")) | .parameters | del(.["output-dir"], .["state-db"])' \
           '.Dhcp4["hosts-database"]' '.Dhcp4.subnet4'; do
    [ "$(jq -S "$key" "$WORK/peer1/kea.json")" = "$(jq -S "$key" "$WORK/peer2/kea.json")" ] \
        || pp_fail "the peers' configs differ in $key"
done

# start_nginx NAME NS ADDR PARTNER-ADDR: serves the peer's output-dir under /prov/ on
# ADDR:8080 and, for a file it does not have, asks the partner's local-only server
# (:8081), as docs/ha.md suggests; :8081 serves the local tree and nothing else.
start_nginx() {
    local d="$WORK/$1/nginx"
    mkdir -p "$d"
    cat > "$d/nginx.conf" <<CONF
user www-data;
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 64; }
http {
    access_log $d/access.log;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    default_type application/octet-stream;
    server {
        listen $3:8080;
        autoindex off;
        location ~ /\. { deny all; }
        location /prov/ { alias $WORK/$1/out/; error_page 404 = @partner; }
        location @partner {
            proxy_pass http://$4:8081;
            proxy_connect_timeout 1s;
            proxy_read_timeout 2s;
        }
    }
    server {
        listen $3:8081;
        autoindex off;
        allow $4;
        deny all;
        location ~ /\. { deny all; }
        location /prov/ { alias $WORK/$1/out/; }
    }
}
CONF
    ip netns exec "$2" nginx -c "$d/nginx.conf" -e "$d/error.log" &
    PIDS+=($!)
}
start_peer() {  # NAME NS: kea-dhcp4 in the namespace; sets PID_<NAME>
    local d="$WORK/$1" pid
    : > "$d/kea.log"
    pp_kea_env "$d/kea.json"
    env "${KEA_ENV[@]}" KEA_PIDFILE_DIR="$d" KEA_LOCKFILE_DIR="$d" \
        ip netns exec "$2" kea-dhcp4 -c "$d/kea.json" > "$d/stdout.log" 2>&1 &
    pid=$!
    PIDS+=($pid)
    printf -v "PID_$1" '%s' "$pid"
    pp_await_kea "$pid" "$d/kea.log" "$d/stdout.log" "kea-dhcp4 $1"
}
ha_state() {  # ADDR: the peer's HA state, from its own HTTP listener
    inns "$NS_C" curl -s -m 1 -H 'Content-Type: application/json' \
        -d '{"command": "ha-heartbeat", "service": ["dhcp4"]}' "http://$1:8000/" 2>/dev/null \
        | jq -r '.[0].arguments.state // empty' 2>/dev/null || true
}
wait_state() {  # ADDR STATE SECONDS
    local s=""
    for _ in $(seq $(($3 * 10))); do
        s=$(ha_state "$1")
        [ "$s" = "$2" ] && return 0
        sleep 0.1
    done
    pp_fail "peer $1 is in state '$s', not $2, after $3 s"
}

start_nginx peer1 "$NS_A" 192.0.2.1 192.0.2.2
start_nginx peer2 "$NS_B" 192.0.2.2 192.0.2.1
start_peer peer1 "$NS_A"
start_peer peer2 "$NS_B"
wait_state 192.0.2.1 "$MODE" 20
wait_state 192.0.2.2 "$MODE" 20
pp_log "both peers $MODE after $(($(date +%s) - T0)) s"

BASE=http://phoneprov.example.net:8080/prov
# boot MAC VC JSON: the relay forwards to both peers; here it asks each in turn, in the
# order of $ORDER (in load balancing only one of them answers). Prints the answering
# peer's address (option 54).
# A peer that offered is the one that answers: the hook holds the ACK until the phone's
# file is written (render-wait-ms, 2 s by default), so a slow render (a busy machine, a
# worker's first database connection) is waited for with a longer time-out.
ORDER="192.0.2.1 192.0.2.2"
sim() {  # SERVER TIMEOUT-MS MAC VENDOR-CLASS JSON
    inns "$NS_C" "$PHONEPROV" simulate --server "$1" --server-port 67 --bind 10.20.0.1 \
        --bind-port 67 --timeout "$2" --mac "$3" --vendor-class "$4" --no-fetch --json \
        > "$5" 2>"$5.err"
}
boot() {
    local vc=${2//_/ } srv
    for srv in $ORDER; do
        if sim "$srv" 300 "$1" "$vc" "$3" || { grep -q "no DHCPACK" "$3.err" && sim "$srv" 1500 "$1" "$vc" "$3"; }; then
            jq -r '.["ack-options"][] | select(.code == 54) | .text' "$3"
            return 0
        fi
    done
    cat "$3.err" >&2
    return 1
}
# fetch PEER-ADDR PATH OUT: the file at BASE/PATH from that peer's nginx (the name in
# option 66 resolved to the peer), HTTP status printed.
fetch() {
    inns "$NS_C" curl -s -m 5 -o "$3" -w '%{http_code}' --resolve "phoneprov.example.net:8080:$1" \
        "$BASE/$2" || true
}
devfile() {  # MAC VC: the phone's per-device file under the output dir
    local hex=${1//:/}
    case "$2" in
        # In the phone's folder (device-tokens): the peers share the site key.
        yealink|Yealink*) echo "yealink/$(pp_token "$1" "$WORK/site.key")/$hex.cfg" ;;
        Grandstream*) echo "grandstream/$(pp_token "$1" "$WORK/site.key")/cfg$hex.xml" ;;
        snom*) echo "snom/$(pp_token "$1" "$WORK/site.key")/${hex^^}.xml" ;;
    esac
}
# wait_file PEER-ADDR PATH OUT: the render runs after the ACK; poll until it is served.
wait_file() {
    local code=""
    for _ in $(seq 50); do
        code=$(fetch "$@")
        [ "$code" = 200 ] && return 0
        sleep 0.1
    done
    pp_fail "$2 not served by $1 (HTTP $code)"
}
options_but_54() { jq -c '[.["ack-options"][] | select(.code != 54) | {code, hex}]' "$1"; }

check_phone() {  # ROUND MAC VC IP USER: boots the phone, checks it; prints the peer
    local r=$1 mac=$2 vc=$3 ip=$4 user=$5 j srv got path
    j="$WORK/$r-$mac.json"
    srv=$(boot "$mac" "$vc" "$j") || pp_fail "$r: no peer answered $mac"
    got=$(jq -r .assigned "$j")
    [ "$got" = "$ip" ] || pp_fail "$r: $mac got $got, not its reserved $ip (from PostgreSQL)"
    got=$(jq -r '.["ack-options"][] | select(.code == 66) | .text' "$j")
    case "$got" in "$BASE"/*/) ;; *) pp_fail "$r: $mac's option 66 is '$got'";; esac
    path=$(devfile "$mac" "$vc")
    wait_file "$srv" "$path" "$WORK/$r-$mac.file"
    grep -q "pw-$user-s3cret" "$WORK/$r-$mac.file" \
        || pp_fail "$r: $path served by $srv lacks the reservation's credentials"
    echo "$srv"
}

# --- Round 1: both peers up.
declare -A FIRST
for p in "${PHONES[@]}"; do
    read -r mac vc ip user <<<"$p"
    FIRST[$mac]=$(check_phone r1 "$mac" "$vc" "$ip" "$user")
done
n1=0; n2=0
for mac in "${!FIRST[@]}"; do
    case "${FIRST[$mac]}" in 192.0.2.1) n1=$((n1 + 1));; 192.0.2.2) n2=$((n2 + 1));;
        *) pp_fail "$mac answered with server identifier '${FIRST[$mac]}'";; esac
done
if [ "$MODE" = load-balancing ]; then
    [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] || pp_fail "load balancing: peer1 answered $n1 phones, peer2 $n2"
else
    [ "$n2" = 0 ] || pp_fail "hot standby: the standby answered $n2 phones"
fi
pp_log "round 1: peer1 answered $n1 phones, peer2 $n2"
# Common files rendered by both peers are byte-identical.
same=0
for f in yealink/y000000000000.cfg grandstream/cfg.xml snom/snom360.htm snom/snom-general.xml; do
    [ -f "$WORK/peer1/out/$f" ] && [ -f "$WORK/peer2/out/$f" ] || continue
    c1=$(fetch 192.0.2.1 "$f" "$WORK/c1") c2=$(fetch 192.0.2.2 "$f" "$WORK/c2")
    [ "$c1$c2" = 200200 ] || pp_fail "common file $f: HTTP $c1 / $c2"
    cmp -s "$WORK/c1" "$WORK/c2" || pp_fail "common file $f differs between the peers"
    same=$((same + 1))
done
for out in "$WORK"/peer*/out; do
    [ ! -f "$out/yealink/y000000000000.cfg" ] || ! grep -qF "$FW_T54W" "$out/yealink/y000000000000.cfg" \
        || pp_fail "the T54W's firmware-url leaked into $out/yealink/y000000000000.cfg"
done
grep -qF "$FW_T54W" "$WORK/peer${FIRST[00:15:65:a0:00:04]##*.}/out/yealink/y000000000096.cfg" \
    || pp_fail "the T54W's model file lacks its firmware-url"
if [ "$MODE" = load-balancing ]; then
    [ "$same" -gt 0 ] || pp_fail "no common file rendered on both peers"
else
    [ -z "$(find "$WORK/peer2/out" -type f)" ] || pp_fail "the standby rendered files"
fi
# Each peer's tree holds the phones it answered; either nginx serves every phone (the
# other's through the fall-back), the same bytes.
for p in "${PHONES[@]}"; do
    read -r mac vc ip user <<<"$p"
    f=$(devfile "$mac" "$vc")
    for srv in 192.0.2.1 192.0.2.2; do
        [ "$srv" = "${FIRST[$mac]}" ] && continue
        [ ! -e "$WORK/peer${srv##*.}/out/$f" ] || pp_fail "$f rendered by $srv, which did not answer $mac"
        c=$(fetch "$srv" "$f" "$WORK/other.file")
        [ "$c" = 200 ] || pp_fail "$f through $srv's fall-back: HTTP $c"
        cmp -s "$WORK/other.file" "$WORK/r1-$mac.file" || pp_fail "$f through $srv's fall-back differs"
    done
done

# perfdhcp, 100 distinct phones asking peer1 only: it answers its share, not all (in hot
# standby: all).
perf() {  # SERVER LOG: prints the number of ACKs
    # A reply later than -d seconds counts as a drop: the hook may hold an ACK up to
    # render-wait-ms (2 s) while its phone renders (100 renders queue up).
    inns "$NS_C" perfdhcp -4 -l 10.20.0.1 -L 67 -b mac=00:15:65:c0:00:00 -R 100 -r 50 -n 100 \
        -d 4 -d 4 -o 60,7965616c696e6b -W 4000000 "$1" > "$2" 2>&1 || true
    awk '/Statistics for: REQUEST-ACK/ {f = 1} f && /^received packets:/ {print $3; exit}' "$2"
}
acks=$(perf 192.0.2.1 "$WORK/perf1.log")
pp_log "perfdhcp against peer1 alone: ${acks:-?} of 100 ACKed"
lo=20 hi=80
[ "$MODE" = load-balancing ] || lo=95 hi=100
[ -n "$acks" ] && [ "$acks" -ge "$lo" ] && [ "$acks" -le "$hi" ] \
    || { cat "$WORK/perf1.log" >&2; pp_fail "peer1 alone ACKed '$acks' of 100, expected $lo to $hi ($MODE)"; }

# --- Failover: kill peer1; peer2 must notice and serve everyone.
T1=$(date +%s%N)
{ kill -9 "$PID_peer1"; wait "$PID_peer1"; } 2>/dev/null || true
wait_state 192.0.2.2 partner-down 15
pp_log "peer2 partner-down $(( ($(date +%s%N) - T1) / 1000000 )) ms after peer1 died"
ORDER="192.0.2.2 192.0.2.1"  # peer1 is dead: asking it first only costs its time-outs

for p in "${PHONES[@]}"; do
    read -r mac vc ip user <<<"$p"
    srv=$(check_phone r2 "$mac" "$vc" "$ip" "$user")
    [ "$srv" = 192.0.2.2 ] || pp_fail "after failover $mac answered by '$srv'"
    [ "$(options_but_54 "$WORK/r2-$mac.json")" = "$(options_but_54 "$WORK/r1-$mac.json")" ] \
        || pp_fail "$mac: options from peer2 differ from what ${FIRST[$mac]} gave"
    cmp "$WORK/r1-$mac.file" "$WORK/r2-$mac.file" \
        || pp_fail "$mac: $(devfile "$mac" "$vc") from peer2 differs from what ${FIRST[$mac]} served"
done
acks=$(perf 192.0.2.2 "$WORK/perf2.log")
pp_log "perfdhcp against the survivor: ${acks:-?} of 100 ACKed"
[ -n "$acks" ] && [ "$acks" -ge 95 ] \
    || { cat "$WORK/perf2.log" >&2; pp_fail "the survivor ACKed '$acks' of 100"; }

# --- peer1 comes back (an empty output-dir, as a new machine would): it syncs its leases
# from peer2 and both load-balance again, splitting the phones as before.
rm -rf "${WORK:?}/peer1/out/"*
start_peer peer1 "$NS_A"
wait_state 192.0.2.1 "$MODE" 30
wait_state 192.0.2.2 "$MODE" 10
pp_log "peer1 back in $MODE after $(($(date +%s) - T0)) s"
ORDER="192.0.2.1 192.0.2.2"
for p in "${PHONES[@]}"; do
    read -r mac vc ip user <<<"$p"
    srv=$(check_phone r3 "$mac" "$vc" "$ip" "$user")
    [ "$srv" = "${FIRST[$mac]}" ] || pp_fail "back in load balancing, $mac answered by $srv, not ${FIRST[$mac]}"
done

# --- Now peer2 dies: peer1 serves everyone, with what peer2 gave and served.
T1=$(date +%s%N)
{ kill -9 "$PID_peer2"; wait "$PID_peer2"; } 2>/dev/null || true
wait_state 192.0.2.1 partner-down 15
pp_log "peer1 partner-down $(( ($(date +%s%N) - T1) / 1000000 )) ms after peer2 died"
for p in "${PHONES[@]}"; do
    read -r mac vc ip user <<<"$p"
    srv=$(check_phone r4 "$mac" "$vc" "$ip" "$user")
    [ "$srv" = 192.0.2.1 ] || pp_fail "after the second failover $mac answered by '$srv'"
    [ "$(options_but_54 "$WORK/r4-$mac.json")" = "$(options_but_54 "$WORK/r1-$mac.json")" ] \
        || pp_fail "$mac: options from peer1 differ from what ${FIRST[$mac]} gave"
    cmp "$WORK/r1-$mac.file" "$WORK/r4-$mac.file" \
        || pp_fail "$mac: $(devfile "$mac" "$vc") from peer1 differs from what ${FIRST[$mac]} served"
done
! grep -h "phoneprov-hooks" "$WORK"/peer*/kea.log | grep -q "s3cret" || pp_fail "a password reached our log lines"
grep -q "PHONEPROV_HOST_DB_USED" "$WORK/peer1/kea.log" || pp_fail "the hook did not use hosts-database"
! grep -h "PHONEPROV_LOAD_WARNING" "$WORK"/peer*/kea.log || pp_fail "the hook warned about the example"
! grep -h "phoneprov-hooks" "$WORK"/peer*/kea.log | grep -qF "$PG_PASSWORD" \
    || pp_fail "the database password reached our log lines"
echo "PASS: HA pair ($MODE, PostgreSQL hosts), $n1/$n2 phones answered by peer1/peer2, two failovers; $(($(date +%s) - T0)) s"
