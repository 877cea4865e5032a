#!/usr/bin/env bash
# Runs a command (kea-dhcp4 with libtsan preloaded) and forwards SIGTERM/SIGINT to it;
# if it has not exited 3 s after the signal, kills it (lib.sh's pp_cleanup waits 5 s
# before it kills this wrapper with SIGKILL, which would orphan kea-dhcp4). Under TSan, kea-dhcp4 can hang
# in exit(): libp11-kit's destructor waits on glibc's setlocale lock in freelocale()
# (seen with gcc 12's libtsan on Debian 12), after the hook was unloaded cleanly.
# Reports are written when a race is found, so nothing is lost by the kill.
"$@" &
child=$!
stop() {
    kill -TERM "$child" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$child" 2>/dev/null || exit 0; sleep 0.1; done
    echo "kea_exit_guard: $1 still running 3 s after SIGTERM (exit hang): killed" >&2
    kill -KILL "$child" 2>/dev/null || true
    exit 0
}
trap 'stop "$1"' TERM INT
wait "$child"
