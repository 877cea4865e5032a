#!/usr/bin/env bash
# Shared helpers for the integration tests and the quick start: start the real
# kea-dhcp4, nginx and tftpd-hpa on loopback, in a temp folder, and stop them
# (by PID) when the script exits. Only 127.0.0.1 is ever used.
set -euo pipefail

SOURCE_DIR=${SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD_DIR=${BUILD_DIR:-$SOURCE_DIR/build}
PHONEPROV=${PHONEPROV:-$BUILD_DIR/tools/phoneprov}
HOOK_SO=${HOOK_SO:-$BUILD_DIR/hook/libdhcp_phoneprov.so}
PROFILES_DIR=${PROFILES_DIR:-$SOURCE_DIR/profiles}
PP_GROUP=${PP_GROUP:-phoneprov}

PIDS=()
WORK=""

pp_log() { printf '%s\n' "$*" >&2; }
pp_fail() { pp_log "FAIL: $*"; exit 1; }

pp_cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] || continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -n "$WORK" ] && [ -z "${PP_KEEP:-}" ]; then rm -rf "$WORK"; fi
}

# pp_setup: a temp work folder, cleaned at exit; the output folder readable by the
# servers' group and not by the world.
pp_setup() {
    WORK=$(mktemp -d /tmp/phoneprov-it.XXXXXX)
    chmod 0755 "$WORK"
    trap pp_cleanup EXIT
    pp_ensure_group
    OUT="$WORK/out"
    install -d -m 0750 -o root -g "$PP_GROUP" "$OUT"
}

# The group that lets nginx (www-data) and tftpd-hpa (tftp) read rendered files.
pp_ensure_group() {
    getent group "$PP_GROUP" >/dev/null || groupadd --system "$PP_GROUP"
    local u
    for u in www-data tftp; do
        if id "$u" >/dev/null 2>&1 && ! id -nG "$u" | tr ' ' '\n' | grep -qx "$PP_GROUP"; then
            usermod -aG "$PP_GROUP" "$u"
        fi
    done
}

# pp_free_port BASE: the first port from BASE on loopback that is free, with the one
# after it (a DHCP server port P answers relays on P+1, where simulate listens),
# for TCP and UDP, at BASE plus a random offset below 400. Tests running side by side
# start from different BASEs.
pp_free_port() {
    # A random even offset: two copies of one test started together rarely race.
    local p=$(( $1 + 2 * (RANDOM % 200) ))
    _pp_busy() { ss -Hlnu "sport = :$1" | grep -q . || ss -Hlnt "sport = :$1" | grep -q .; }
    while _pp_busy "$p" || _pp_busy "$((p + 1))"; do
        p=$((p + 2))
    done
    echo "$p"
}

# pp_wait_port PROTO PORT: wait until something listens.
pp_wait_port() {
    local proto=$1 port=$2 flag=-Hlnt
    [ "$proto" = udp ] && flag=-Hlnu
    for _ in $(seq 100); do
        ss $flag "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    pp_fail "nothing listens on $proto port $port"
}

# pp_start_nginx PORT [FETCH_SOCKET]: serves $OUT under /prov/ on 127.0.0.1:PORT as
# nginx would be set up by an admin: no listing, no dot files, a rate limit. With
# FETCH_SOCKET, each request under /prov/ also goes to the hook's fetch-log-socket
# (packaging/nginx/fetch-log.conf's log_format, over syslog).
pp_start_nginx() {
    HTTP_PORT=$1
    local fetch_log=""
    if [ -n "${2:-}" ]; then
        fetch_log="$(grep '^log_format' "$SOURCE_DIR/packaging/nginx/fetch-log.conf")
    access_log syslog:server=unix:$2,nohostname phoneprov_fetch;"
    fi
    # PP_LEASE_BINDING=1: the shipped lease-binding snippet, with $OUT for the package's folder.
    local lease_binding=""
    if [ -n "${PP_LEASE_BINDING:-}" ]; then
        lease_binding=$(grep -v '^#' "$SOURCE_DIR/packaging/nginx/lease-binding.conf" \
            | sed "s|/var/lib/kea-phoneprov/www|$OUT|g")
    fi
    mkdir -p "$WORK/nginx"
    cat > "$WORK/nginx/nginx.conf" <<CONF
user www-data;
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/nginx/access.log;
    $fetch_log
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    default_type application/octet-stream;
    limit_req_zone \$binary_remote_addr zone=prov:1m rate=50r/s;
    server {
        listen 127.0.0.1:$HTTP_PORT;
        autoindex off;
        location ~ /\. { deny all; }
        location /prov/ {
            limit_req zone=prov burst=100 nodelay;
            alias $OUT/;
            $lease_binding
        }
    }
}
CONF
    nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
    PIDS+=($!)
    pp_wait_port tcp "$HTTP_PORT"
}

# pp_start_tftpd PORT: tftpd-hpa serving $OUT read-only on 127.0.0.1:PORT.
pp_start_tftpd() {
    TFTP_PORT=$1
    # --permissive: files are 0640, readable through the group, not by the world.
    # PP_LEASE_BINDING=1: the shipped remap file (per-device names from by-address/\i/).
    local map=()
    [ -z "${PP_LEASE_BINDING:-}" ] || map=(--map-file "$SOURCE_DIR/packaging/tftpd-hpa/lease-binding.remap")
    in.tftpd --foreground --listen --user tftp --permissive --address "127.0.0.1:$TFTP_PORT" \
        "${map[@]}" --secure "$OUT" &
    PIDS+=($!)
    pp_wait_port udp "$TFTP_PORT"
    # Debian 13's tftpd-hpa (5.2+20240610) leaves the first request after it starts
    # unanswered (the child forked for it exits on socket(AF_UNSPEC)); a phone's
    # TFTP client sends again, a test's single request would time out. Ready means
    # it answers a request (here "File not found").
    pp_wait_until 10 _pp_tftp_answers "$TFTP_PORT" || pp_fail "tftpd-hpa on port $TFTP_PORT does not answer"
}
_pp_tftp_answers() {
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(b"\0\1phoneprov-ready-probe\0octet\0", ("127.0.0.1", int(sys.argv[1])))
try:
    s.recvfrom(600)
except OSError:
    sys.exit(1)
PY
}

# Kea 2.6.3 (Debian 13) and 3.0 restrict paths: hook libraries from the hooks directory,
# lease files, logs and control sockets in Kea's folders, unless KEA_HOOKS_PATH,
# KEA_DHCP_DATA_DIR, KEA_LOG_FILE_DIR and KEA_CONTROL_SOCKET_DIR say otherwise.
# pp_kea_env CONFIG sets KEA_ENV (NAME=VALUE words for env) to the folders CONFIG uses
# (kea_confine.py; it links hooks from several folders into one beside CONFIG);
# nothing for an older Kea. pp_kea_run CONFIG CMD...: CMD with that environment, in the
# foreground (in the background, $! would be a subshell's PID: use pp_kea_env, then env).
pp_kea_env() {
    KEA_ENV=()
    if [ -z "${PP_KEA_CONFINED+x}" ]; then
        local v
        v=$(kea-dhcp4 -v 2>/dev/null || echo 0)
        PP_KEA_CONFINED=""
        [ "$(printf '%s\n' 2.6.3 "$v" | sort -V | head -n1)" = 2.6.3 ] && PP_KEA_CONFINED=1
    fi
    [ -n "$PP_KEA_CONFINED" ] || return 0
    local default out
    default=$(kea-dhcp4 -W | sed -n 's/^ *Hooks directory: *//p')
    out=$(python3 "$SOURCE_DIR/tests/integration/kea_confine.py" "$1" \
        --hooks-dir "$(dirname "$1")/hooks" --default-hooks "${default:-/usr/lib/x86_64-linux-gnu/kea/hooks}") \
        || pp_fail "kea_confine.py $1"
    [ -z "$out" ] || mapfile -t KEA_ENV <<< "$out"
}
pp_kea_run() {
    local config=$1
    shift
    pp_kea_env "$config"
    env "${KEA_ENV[@]}" "$@"
}

# pp_start_kea CONFIG PORT: kea-dhcp4 on loopback, server port PORT, replies to
# relays on PORT+1; logs in $WORK/kea.log.
pp_start_kea() {
    local config=$1
    DHCP_PORT=$2
    mkdir -p "$WORK/kea"
    # PP_KEA_WRAPPER: a command prefix for kea-dhcp4 (tests/sanitize/tsan.sh preloads libtsan).
    pp_kea_env "$config"
    env "${KEA_ENV[@]}" KEA_PIDFILE_DIR="$WORK/kea" KEA_LOCKFILE_DIR="$WORK/kea" \
        ${PP_KEA_WRAPPER:-} kea-dhcp4 -c "$config" -p "$DHCP_PORT" -P "$((DHCP_PORT + 1))" > "$WORK/kea/stdout.log" 2>&1 &
    KEA_PID=$!
    PIDS+=($KEA_PID)
    pp_await_kea "$KEA_PID" "$WORK/kea.log" "$WORK/kea/stdout.log" "kea-dhcp4"
}

# pp_await_kea PID KEA_LOG STDOUT_LOG WHAT: waits (10 s) for DHCP4_STARTED in KEA_LOG;
# if the process dies or never starts, shows its output and errors and fails.
pp_await_kea() {
    for _ in $(seq 100); do
        grep -q "DHCP4_STARTED" "$2" 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    cat "$3" >&2 || true
    grep -E "ERROR|FATAL" "$2" >&2 || true
    pp_fail "$4 did not start"
}

# pp_wait_log PATTERN FILE SECONDS: waits until FILE has a line matching PATTERN (grep -E);
# returns 1 after SECONDS. For events the product logs (start-up render done, ...),
# instead of a fixed sleep that a slow machine outruns.
pp_wait_log() {
    local i
    for i in $(seq $(( $3 * 10 ))); do
        grep -qE "$1" "$2" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# pp_wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds; returns 1 after
# SECONDS. A condition to wait for, never a fixed sleep.
pp_wait_until() {
    local n=$(( $1 * 10 )) i
    shift
    for i in $(seq "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# pp_await_idle SOCKET SECONDS: waits until phoneprov-status says no render is waiting
# or running (the start-up render of reserved phones included).
pp_await_idle() {
    [ -S "$1" ] || { pp_log "no control socket at $1"; return 1; }
    _pp_idle() {
        [ "$(pp_sock "$1" '{"command": "phoneprov-status"}' 20 | jq -r '(if type == "array" then .[0] else . end).arguments["renders-pending"]')" = 0 ]
    }
    pp_wait_until "$2" _pp_idle "$1"
}

# pp_kea_config TEMPLATE OUTPUT: fills @WORK@ @OUT@ @HOOK@ @PROFILES@ @HTTP_PORT@ @TFTP_PORT@.
pp_kea_config() {
    sed -e "s|@WORK@|$WORK|g" -e "s|@OUT@|$OUT|g" -e "s|@HOOK@|$HOOK_SO|g" \
        -e "s|@PROFILES@|$PROFILES_DIR|g" -e "s|@HTTP_PORT@|${HTTP_PORT:-8080}|g" \
        -e "s|@TFTP_PORT@|${TFTP_PORT:-69}|g" -e "s|@GROUP@|$PP_GROUP|g" "$1" > "$2"
}

# pp_token MAC [KEY_FILE]: a phone's per-device folder name (device-tokens): the first
# 128 bits of HMAC-SHA-256(site key, MAC), lower-case hex. The key defaults to the one
# adapt_kea_config.py writes, $WORK/site.key.
pp_token() {
    python3 -c 'import hmac, hashlib, sys
print(hmac.new(open(sys.argv[2], "rb").read(), bytes.fromhex(sys.argv[1].replace(":", "")),
               hashlib.sha256).hexdigest()[:32])' "$1" "${2:-$WORK/site.key}"
}

# pp_simulate ARGS...: a phone booting against the Kea started by pp_start_kea.
pp_simulate() {
    "$PHONEPROV" simulate --server 127.0.0.1 --server-port "$DHCP_PORT" \
        --bind 127.0.0.1 --bind-port "$((DHCP_PORT + 1))" "$@"
}

# pp_records_config HTTP_PORT: $WORK/kea.json from the quick start with the hook's phone
# records: control socket $SOCK, state-db $DB, fetch-log-socket $FETCH_SOCK (all in $WORK),
# files at their MAC names (device-tokens off: token folders have test_credential_attack),
# and the reserved Yealink 00:15:65:aa:bb:cc at 127.0.0.1, where simulate fetches from
# (a phone fetches from its leased address).
pp_records_config() {
    SOCK="$WORK/kea-ctrl.sock"
    FETCH_SOCK="$WORK/fetch.sock"
    DB="$WORK/state.db"
    python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
        "$WORK/quickstart.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" \
        --profiles "$PROFILES_DIR" --http-port "$1"
    jq --arg sock "$SOCK" --arg db "$DB" --arg fs "$FETCH_SOCK" '
        .Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}
      | .Dhcp4["hooks-libraries"][0].parameters += {"state-db": $db, "fetch-log-socket": $fs,
                                                      "device-tokens": false}
      | .Dhcp4.subnet4[0].reservations |= map(if .["hw-address"] == "00:15:65:aa:bb:cc"
                                              then . + {"ip-address": "127.0.0.1"} else . end)' \
        "$WORK/quickstart.json" > "$WORK/kea.json"
}

# pp_sock SOCKET JSON [SECONDS]: one command on kea-dhcp4's unix control socket (waiting at
# most SECONDS, 10 by default, for the answer); prints the answer.
pp_sock() {
    python3 - "$1" "$2" "${3:-10}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(float(sys.argv[3]))
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode())
PY
}

# pp_free_port_pair: a free port P with P+1 free too (Kea's server and relay ports),
# from a random base so that tests run by other users at the same time do not collide.
pp_free_port_pair() {
    pp_free_port $((20000 + 2 * (RANDOM % 15000)))
}
