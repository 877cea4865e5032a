#!/usr/bin/env bash
# A real PostgreSQL for the tests, private to one test: its own cluster in the test's
# work folder, listening on one address (loopback by default, or an address inside a
# network namespace the test made), the Kea schema from `kea-admin db-init pgsql`.
# Stopped by PID with the rest of the test (source lib.sh first, then this file).
#
#   pp_pg_start [ADDR] [NETNS]   sets PG_HOST PG_PORT PG_DB PG_USER PG_PASSWORD PG_ACCESS
#   pp_pg_sql "SQL"              runs SQL as the kea user, prints rows (unaligned, no header)
#   pp_pg_add_host MAC IPV4 SUBNET_ID HOSTNAME USER_CONTEXT_JSON
#   pp_pg_stop                   stops the server (a test may restart it with pp_pg_start)
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
PG_DB=kea
PG_USER=kea
PG_PASSWORD=kea-test-pw
PG_NETNS=""

# Runs a command as the postgres system user, inside the namespace if there is one;
# setpriv execs (no forked session), so the PID a test keeps is the server's own.
_pp_pg_as() {
    local ns=()
    [ -n "$PG_NETNS" ] && ns=(ip netns exec "$PG_NETNS")
    "${ns[@]}" setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
}

pp_pg_start() {
    PG_HOST=${1:-127.0.0.1}
    PG_NETNS=${2:-}
    [ -x "$PG_BIN/initdb" ] || pp_fail "PostgreSQL server not installed (postgresql)"
    PG_DIR="$WORK/pg"
    if [ ! -d "$PG_DIR/data" ]; then
        install -d -o postgres -g postgres -m 0700 "$PG_DIR" "$PG_DIR/data" "$PG_DIR/sock"
        _pp_pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$WORK/pg-initdb.log" 2>&1 \
            || { cat "$WORK/pg-initdb.log" >&2; pp_fail "initdb"; }
        # Password authentication over TCP for everyone but the local superuser.
        printf 'local all postgres trust\nhost all all 0.0.0.0/0 scram-sha-256\n' \
            > "$PG_DIR/data/pg_hba.conf"
        PG_PORT=${PG_PORT:-$(pp_free_port 25432)}
        PG_FRESH=1
    else
        PG_FRESH=0
    fi
    local ns=()
    [ -n "$PG_NETNS" ] && ns=(ip netns exec "$PG_NETNS")
    # Not through a function: the PID kept must be the server's own (ip and setpriv exec).
    "${ns[@]}" setpriv --reuid=postgres --regid=postgres --init-groups -- \
        "$PG_BIN/postgres" -D "$PG_DIR/data" -h "$PG_HOST" -p "$PG_PORT" \
        -k "$PG_DIR/sock" -c fsync=off -c full_page_writes=off >"$WORK/pg.log" 2>&1 &
    PG_PID=$!
    PIDS+=($PG_PID)
    local ok=""
    for _ in $(seq 150); do
        if _pp_pg_as "$PG_BIN/pg_isready" -q -h "$PG_DIR/sock" -p "$PG_PORT"; then ok=1; break; fi
        kill -0 "$PG_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$ok" ] || { cat "$WORK/pg.log" >&2; pp_fail "PostgreSQL did not start"; }
    if [ "$PG_FRESH" = 1 ]; then
        _pp_pg_as psql -q -h "$PG_DIR/sock" -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 \
            -c "CREATE USER $PG_USER WITH PASSWORD '$PG_PASSWORD';" \
            -c "CREATE DATABASE $PG_DB OWNER $PG_USER;" >/dev/null
        "${ns[@]}" env PGPASSWORD="$PG_PASSWORD" kea-admin db-init pgsql -u "$PG_USER" -p "$PG_PASSWORD" \
            -n "$PG_DB" -h "$PG_HOST" -P "$PG_PORT" >"$WORK/pg-kea-admin.log" 2>&1 \
            || { cat "$WORK/pg-kea-admin.log" >&2; pp_fail "kea-admin db-init pgsql"; }
    fi
    PG_ACCESS="{\"type\": \"postgresql\", \"name\": \"$PG_DB\", \"user\": \"$PG_USER\", \"password\": \"$PG_PASSWORD\", \"host\": \"$PG_HOST\", \"port\": $PG_PORT}"
}

pp_pg_stop() {
    [ -n "${PG_PID:-}" ] || return 0
    kill -INT "$PG_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PG_PID" 2>/dev/null || true
    PG_PID=""
}

pp_pg_sql() {
    local ns=()
    [ -n "$PG_NETNS" ] && ns=(ip netns exec "$PG_NETNS")
    "${ns[@]}" env PGPASSWORD="$PG_PASSWORD" psql -X -q -A -t -v ON_ERROR_STOP=1 \
        -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -c "$1"
}

# pp_pg_add_host MAC IPV4 SUBNET_ID HOSTNAME USER_CONTEXT_JSON: a reservation by
# hardware address, as Kea's own host commands would store it.
pp_pg_add_host() {
    local mac=$1 ip=$2 subnet=$3 name=$4 ctx=$5
    local hex=${mac//:/}
    ctx=${ctx//\'/\'\'}
    pp_pg_sql "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id,
        ipv4_address, hostname, user_context)
        VALUES (decode('$hex', 'hex'), 0, $subnet,
        ('$ip'::inet - '0.0.0.0'::inet), '$name', '$ctx');"
}
