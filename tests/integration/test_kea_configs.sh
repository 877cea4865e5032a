#!/usr/bin/env bash
# Every example in kea-config/ works as shipped: each one is moved onto loopback by
# scripts/adapt_kea_config.py (paths, ports, its subnet onto 127.0.0.0/8), checked
# with `kea-dhcp4 -t` (the agent's with `kea-ctrl-agent -t`), started for real, and
# phones boot against it (phoneprov simulate): each gets the options the example
# promises, its reserved address, and its rendered file (served by nginx).
# pgsql-hosts.json runs against a private PostgreSQL with Kea's schema; the
# Dhcp4 example with a control socket runs behind the agent example.
# An example that is not listed in PHONES below fails the test: a new example
# needs its phones here.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"
pp_setup

HOOK_PATH=/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_phoneprov.so
OUT_PATH=/var/lib/kea-phoneprov/www
HTTP=$(pp_free_port 18480)
pp_start_nginx "$HTTP"
BASE="http://127.0.0.1:$HTTP/prov"

# CONFIG|MAC|VENDOR CLASS|OPTION|EXPECTED TEXT ("" none)|FILE under output-dir|ADDRESS ("x." a prefix)|LINE the file holds
# ({T} stands for the phone's token: its per-device folder)
PHONES=(
  "quickstart|00:15:65:aa:bb:cc|yealink|66|$BASE/yealink/{T}/|yealink/{T}/001565aabbcc.cfg|127.0.0.|account.1.user_name = 1001"
  "voice-pool|00:15:65:aa:bb:01|yealink|66|$BASE/yealink/||127.0.1.|"
  "voice-pool|3c:22:fb:01:02:03|MSFT 5.0|66|||127.0.2.|"
  "one-subnet|00:15:65:20:00:01|yealink|66|$BASE/yealink/{T}/|yealink/{T}/001565200001.cfg|127.20.0.10|account.1.user_name = 1001"
  "one-subnet|00:15:65:20:00:02|Yealink T46S|66|$BASE/yealink/{T}/|yealink/{T}/001565200002.cfg|127.20.0.|account.2.label = Group"
  # Vendor URL over the subnet's 66; the custom option 160; the T54W's own transport (tls = 2).
  "mixed-vendor|00:15:65:30:00:01|Yealink T54W|66|$BASE/yealink/{T}/|yealink/{T}/001565300001.cfg|127.30.0.11|account.1.sip_server.1.transport_type = 2"
  "mixed-vendor|00:15:65:30:00:01|Yealink T54W|160|$BASE/yealink/{T}/|yealink/{T}/001565300001.cfg|127.30.0.11|account.1.sip_server.1.port = 5061"
  "mixed-vendor|00:04:f2:30:00:03|Polycom-VVX410|160|$BASE/polycom/{T}/|polycom/{T}/0004f2300003-user.cfg|127.30.0.13|reg.1.server.1.transport=\"TLS\""
  "mixed-vendor|00:0b:82:30:00:02|Grandstream GRP2614 dslforum.org|66|$BASE/grandstream/{T}/|grandstream/{T}/cfg000b82300002.xml|127.30.0.12|<item name=\"account.1.sip.transport\">TCP</item>"
  "mixed-vendor|00:1e:4a:30:00:04||150|127.0.0.1|SEP001E4A300004.cnf.xml|127.30.0.14|"
  # The lab phone's own option 66 wins; its file is still rendered.
  "mixed-vendor|00:04:13:30:00:05|snomD785|66|http://127.30.0.3/lab/snom/|snom/{T}/000413300005.xml|127.30.0.15|"
  # Avaya keeps the subnet's hand-written 242.
  "mixed-vendor|00:04:0d:30:00:06|ccp.avaya.com|242|MCIPADD=127.30.0.5,MCPORT=5061,HTTPSRVR=127.30.0.2,HTTPDIR=avaya,L2Q=2||127.30.0.|"
  # Not a phone: the subnet's 66. Gigaset is disabled: no 114.
  "mixed-vendor|3c:22:fb:30:00:09|MSFT 5.0|66|127.30.0.9||127.30.0.|"
  "mixed-vendor|7c:2f:80:30:00:07|Gigaset_N720_DM_PRO|114|||127.30.0.|"
  "control-agent|00:15:65:50:00:01|yealink|66|$BASE/yealink/{T}/|yealink/{T}/001565500001.cfg|127.50.0.10|account.1.user_name = 5001"
  "pgsql-hosts|00:15:65:40:00:01|yealink|66|$BASE/yealink/{T}/|yealink/{T}/001565400001.cfg|127.40.0.21|account.1.user_name = 3001"
)
# Reservations pgsql-hosts.json's database holds: MAC|ADDRESS|HOSTNAME|USER CONTEXT
PG_HOSTS=(
  '00:15:65:40:00:01|127.40.0.21|front-desk|{"phoneprov": {"accounts": [{"user": "3001", "password": "Fd-5e21c7", "display-name": "Front desk"}]}}'
)

# plain FILE: the example as JSON, its comments removed the way Kea reads them.
plain() {
    python3 -c 'import sys, json; sys.path.insert(0, sys.argv[1]); from adapt_kea_config import strip_comments
print(json.dumps(json.loads(strip_comments(open(sys.argv[2], encoding="utf-8").read()))))' \
        "$SOURCE_DIR/scripts" "$1"
}

adapt() {  # EXAMPLE OUTPUT [more arguments]
    local src=$1 dst=$2
    shift 2
    python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$src" "$dst" --work "$WORK" --out "$OUT" \
        --hook "$HOOK_SO" --profiles "$PROFILES_DIR" --http-port "$HTTP" --loopback "$@" \
        || pp_fail "adapt_kea_config.py refused $(basename "$src")"
}

# boot CONFIG MAC CLASS OPTION EXPECTED FILE ADDRESS LINE: one phone against the running Kea.
boot() {
    local cfg=$1 mac=$2 vc=$3 code=$4 want=$5 file=$6 addr=$7 line=$8 json got kind
    # {T}: the phone's per-device folder (device-tokens; the key adapt wrote in $WORK).
    want=${want//\{T\}/$(pp_token "$mac")}
    file=${file//\{T\}/$(pp_token "$mac")}
    json="$WORK/sim-$cfg-${mac//:/}-$code.json"
    local vcarg=()
    [ -n "$vc" ] && vcarg=(--vendor-class "$vc")
    pp_simulate --mac "$mac" "${vcarg[@]}" --no-fetch --json > "$json" \
        || pp_fail "$cfg: $mac ($vc) got no lease: $(cat "$json")"
    for kind in offer-options ack-options; do
        got=$(jq -r --argjson c "$code" --arg k "$kind" '.[$k][] | select(.code == $c) | .text' "$json")
        [ "$got" = "$want" ] || pp_fail "$cfg: $mac ($vc) $kind option $code is '$got', expected '$want'"
    done
    got=$(jq -r .assigned "$json")
    case "$addr" in
        *.) case "$got" in "$addr"*) ;; *) pp_fail "$cfg: $mac got $got, expected $addr*";; esac ;;
        *) [ "$got" = "$addr" ] || pp_fail "$cfg: $mac got $got, expected its reserved $addr" ;;
    esac
    [ -n "$file" ] || return 0
    # The ACK waits for the render (render-wait-ms); a loaded machine may need longer.
    for _ in $(seq 300); do [ -f "$OUT/$file" ] && break; sleep 0.1; done
    [ -f "$OUT/$file" ] || pp_fail "$cfg: $mac: no rendered $file"
    if [ -n "$line" ]; then
        grep -qF -- "$line" "$OUT/$file" || pp_fail "$cfg: $mac: $file lacks '$line'"
    fi
    curl -fsS -o "$WORK/fetched" "$BASE/$file" || pp_fail "$cfg: nginx did not serve $file"
    cmp -s "$WORK/fetched" "$OUT/$file" || pp_fail "$cfg: $file served differs from the rendered one"
}

# dhcp_ports: a port for Kea whose next one (where the simulated relay binds) is free too
# (pp_free_port guarantees both).
dhcp_ports() {
    pp_free_port 12467
}

stop_kea() {
    kill "$KEA_PID" 2>/dev/null || true
    wait "$KEA_PID" 2>/dev/null || true
}

# The agent example that fronts this Dhcp4 example's control socket, started and asked.
run_agent() {  # DHCP4-EXAMPLE
    local name socket agent="" a user pwfile pw port reply
    name=$(basename "$1" .json)
    socket=$(plain "$1" | jq -r '.Dhcp4["control-socket"]["socket-name"]')
    for a in "$SOURCE_DIR"/kea-config/*.json; do
        if [ "$(plain "$a" | jq -r '.["Control-agent"]["control-sockets"].dhcp4["socket-name"] // ""')" = "$socket" ]; then
            agent=$a
        fi
    done
    [ -n "$agent" ] || pp_fail "$name: no agent example fronts its control socket $socket"
    port=$(pp_free_port 18800)
    adapt "$agent" "$WORK/agent.json" --ctrl-socket "$WORK/kea4-ctrl.sock" --agent-port "$port"
    user=$(jq -r '.["Control-agent"].authentication.clients[0].user' "$WORK/agent.json")
    pwfile=$(jq -r '.["Control-agent"].authentication.clients[0]["password-file"]' "$WORK/agent.json")
    pw="pw-$RANDOM$RANDOM"
    printf '%s' "$pw" > "$WORK/$pwfile"
    pp_kea_run "$WORK/agent.json" kea-ctrl-agent -t "$WORK/agent.json" > "$WORK/agent-check.log" 2>&1 \
        || { cat "$WORK/agent-check.log"; pp_fail "kea-ctrl-agent -t $(basename "$agent")"; }
    pp_kea_env "$WORK/agent.json"
    env "${KEA_ENV[@]}" KEA_PIDFILE_DIR="$WORK/kea" KEA_LOCKFILE_DIR="$WORK/kea" \
        kea-ctrl-agent -c "$WORK/agent.json" > "$WORK/agent-stdout.log" 2>&1 &
    local agent_pid=$!
    PIDS+=($agent_pid)
    pp_wait_port tcp "$port"
    reply=$(curl -sS -u "$user:$pw" -H 'Content-Type: application/json' \
        -d '{"command": "status-get", "service": ["dhcp4"]}' "http://127.0.0.1:$port/")
    [ "$(jq -r '.[0].result' <<< "$reply")" = 0 ] || pp_fail "$name: status-get through the agent: $reply"
    [ "$(jq -r '.[0].arguments.pid' <<< "$reply")" = "$KEA_PID" ] || pp_fail "$name: status-get answered for another process: $reply"
    reply=$(curl -sS -u "$user:$pw" -H 'Content-Type: application/json' \
        -d '{"command": "config-get", "service": ["dhcp4"]}' "http://127.0.0.1:$port/")
    # The hook as the running configuration names it (on Kea 2.6.3, a link to $HOOK_SO
    # beside Kea's own hooks: kea_confine.py).
    local so
    so=$(jq -r '.Dhcp4["hooks-libraries"][].library | select(test("libdhcp_phoneprov"))' "$WORK/$name.json")
    jq -e --arg so "$so" '.[0].arguments.Dhcp4["hooks-libraries"] | map(.library) | index($so)' \
        <<< "$reply" > /dev/null || pp_fail "$name: config-get through the agent lacks the hook"
    reply=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
        -d '{"command": "status-get", "service": ["dhcp4"]}' "http://127.0.0.1:$port/")
    [ "$reply" = 401 ] || pp_fail "$(basename "$agent"): a command without credentials got HTTP $reply"
    kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
    AGENTS_RUN+=("$(basename "$agent" .json)")
}

AGENTS_RUN=()
AGENT_EXAMPLES=()
for example in "$SOURCE_DIR"/kea-config/*.json; do
    name=$(basename "$example" .json)
    json=$(plain "$example") || pp_fail "$name: Kea could not read it (not JSON with comments)"
    if jq -e 'has("Control-agent")' <<< "$json" > /dev/null; then
        AGENT_EXAMPLES+=("$name")
        continue
    fi
    jq -e 'has("Dhcp4")' <<< "$json" > /dev/null || pp_fail "$name: neither Dhcp4 nor Control-agent"
    # As shipped: the Debian package's paths, the installed profiles.
    jq -e --arg so "$HOOK_PATH" '.Dhcp4["hooks-libraries"] | map(.library) | index($so)' <<< "$json" \
        > /dev/null || pp_fail "$name: does not load $HOOK_PATH"
    params=$(jq -c '.Dhcp4["hooks-libraries"][] | select(.library | test("libdhcp_phoneprov")) | .parameters' <<< "$json")
    [ "$(jq -r '.["output-dir"]' <<< "$params")" = "$OUT_PATH" ] || pp_fail "$name: output-dir is not $OUT_PATH"
    ! jq -e 'has("profiles-dir")' <<< "$params" > /dev/null || pp_fail "$name: names a profiles-dir"
    case "$name" in ha-peer*)
        # An HA peer needs its partner: the pair is started and booted in network
        # namespaces by test_ha_pair.sh. Here: as shipped, and Kea accepts it.
        adapt "$example" "$WORK/$name.json" --loopback --pg-host 127.0.0.1
        pp_kea_run "$WORK/$name.json" kea-dhcp4 -t "$WORK/$name.json" > "$WORK/$name-check.log" 2>&1 \
            || { cat "$WORK/$name-check.log"; pp_fail "kea-dhcp4 -t $name.json"; }
        echo "ok: $name (checked; booted as a pair by test_ha_pair.sh)"
        continue ;;
    esac
    phones=()
    for p in "${PHONES[@]}"; do
        if [ "${p%%|*}" = "$name" ]; then phones+=("$p"); fi
    done
    [ ${#phones[@]} -gt 0 ] || pp_fail "$name: no phone to boot against it (add it to PHONES in $0)"

    extra=()
    if jq -e '.Dhcp4["hosts-database"].type == "postgresql"' <<< "$json" > /dev/null; then
        [ -n "${PG_PID:-}" ] || pp_pg_start
        extra=(--pg-host "$PG_HOST" --pg-port "$PG_PORT" --pg-name "$PG_DB" --pg-user "$PG_USER"
               --pg-password "$PG_PASSWORD")
    fi
    if jq -e '.Dhcp4 | has("control-socket")' <<< "$json" > /dev/null; then
        extra+=(--ctrl-socket "$WORK/kea4-ctrl.sock")
    fi
    adapt "$example" "$WORK/$name.json" "${extra[@]}"
    pp_kea_run "$WORK/$name.json" kea-dhcp4 -t "$WORK/$name.json" > "$WORK/$name-check.log" 2>&1 \
        || { cat "$WORK/$name-check.log"; pp_fail "kea-dhcp4 -t $name.json"; }

    find "$OUT" -mindepth 1 -delete
    rm -f "$WORK/kea.log" "$WORK/leases4.csv"*
    DHCP=$(dhcp_ports)
    pp_start_kea "$WORK/$name.json" "$DHCP"
    grep -q "PHONEPROV_LOAD_OK" "$WORK/kea.log" || pp_fail "$name: the hook did not load"
    if [ "${extra[0]:-}" = --pg-host ]; then
        # Kea opened the hosts database and holds a connection to it (the reserved
        # addresses below come from there).
        grep -q "DHCPSRV_PGSQL_HOST_DB opening PostgreSQL hosts database" "$WORK/kea.log" \
            || pp_fail "$name: Kea did not open the PostgreSQL hosts database"
        [ "$(pp_pg_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = '$PG_USER' AND pid <> pg_backend_pid();")" -gt 0 ] \
            || pp_fail "$name: Kea holds no connection to PostgreSQL"
        # Reservations added while Kea runs are used at once (as the example says).
        subnet=$(jq -r '.Dhcp4.subnet4[0].id' "$WORK/$name.json")
        for h in "${PG_HOSTS[@]}"; do
            IFS='|' read -r mac ip host ctx <<< "$h"
            pp_pg_add_host "$mac" "$ip" "$subnet" "$host" "$ctx"
        done
    fi
    for p in "${phones[@]}"; do
        IFS='|' read -r _ mac vc code want file addr line <<< "$p"
        boot "$name" "$mac" "$vc" "$code" "$want" "$file" "$addr" "$line"
    done
    if jq -e '.Dhcp4 | has("control-socket")' <<< "$json" > /dev/null; then
        run_agent "$example"
    fi
    ! grep "phoneprov-hooks" "$WORK/kea.log" | grep -Eq "PHONEPROV_(LOAD_WARNING|RENDER_FAILED|HOST_DATA_BAD|PIN_UNKNOWN)" \
        || pp_fail "$name: the hook warned: $(grep -E 'PHONEPROV_(LOAD_WARNING|RENDER_FAILED|HOST_DATA_BAD|PIN_UNKNOWN)' "$WORK/kea.log" | head -3)"
    cp "$WORK/kea.log" "$WORK/kea-$name.log"
    stop_kea
    echo "ok: $name (${#phones[@]} phones)"
done
for a in "${AGENT_EXAMPLES[@]}"; do
    printf '%s\n' "${AGENTS_RUN[@]}" | grep -qx "$a" || pp_fail "$a: no Dhcp4 example opens the control socket it fronts"
    echo "ok: $a (in front of its Dhcp4 example)"
done

# The complete hooks-libraries entry of docs/guide.md loads as printed (in one-subnet.json's place).
python3 - "$SOURCE_DIR" "$WORK/guide.json" <<'PY' || pp_fail "docs/guide.md: no complete hooks-libraries entry to check"
import json, re, sys
sys.path.insert(0, sys.argv[1] + "/scripts")
from adapt_kea_config import strip_comments
guide = open(sys.argv[1] + "/docs/guide.md", encoding="utf-8").read()
block = re.search(r"A complete entry.*?```json\n(.*?)```", guide, re.S).group(1)
entry = json.loads("{" + block + "}")["hooks-libraries"]
cfg = json.loads(strip_comments(open(sys.argv[1] + "/kea-config/one-subnet.json", encoding="utf-8").read()))
cfg["Dhcp4"]["hooks-libraries"] = entry
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
PY
adapt "$WORK/guide.json" "$WORK/guide-kea.json"
find "$OUT" -mindepth 1 -delete
rm -f "$WORK/kea.log"
DHCP=$(dhcp_ports)
pp_start_kea "$WORK/guide-kea.json" "$DHCP"
grep -q "PHONEPROV_LOAD_OK" "$WORK/kea.log" || pp_fail "docs/guide.md: the complete entry does not load"
boot guide 00:15:65:30:00:01 "Yealink T54W" 160 "$BASE/yealink/" "" 127.20.0. ""
stop_kea
echo "ok: docs/guide.md's complete hooks-libraries entry"
echo "PASS: every example in kea-config/ checked, started and booted phones"
