#!/usr/bin/env bash
# Issue 6: the phoneprov-* commands and statistics through Kea's real control channel.
# kea-dhcp4 (with a unix control socket in the work folder) and kea-ctrl-agent (HTTP on
# 127.0.0.1, a free port); a phone boots with `phoneprov simulate`; the counters move
# in phoneprov-status and in statistic-get-all; identify, render and reload answer,
# and a reload of a broken profile keeps the running set. Run single-threaded, then
# with Kea's multi-threading (the reload's swap happens in Kea's critical section).
source "$(dirname "$0")/lib.sh"
pp_setup

# A private copy of the profiles, which the test breaks and mends.
cp -r "$PROFILES_DIR" "$WORK/profiles"
PROFILES_DIR="$WORK/profiles"
SOCK="$WORK/kea4-ctrl.sock"
YL=00:15:65:aa:bb:cc

# ca JSON: a command through kea-ctrl-agent over HTTP; prints the dhcp4 answer (a map).
ca() {
    curl -sS --max-time 10 -X POST -H "Content-Type: application/json" -d "$1" \
        "http://127.0.0.1:$CA_PORT/" | jq -c '.[0]'
}
# sock JSON: a command on kea-dhcp4's own unix socket; prints the answer.
sock() { pp_sock "$SOCK" "$1"; }
# expect WHAT JSON JQ-FILTER: the filter must print "true".
expect() {
    local got
    got=$(printf '%s' "$2" | jq -r "$3") || pp_fail "$1: not JSON: $2"
    [ "$got" = true ] || pp_fail "$1: '$3' does not hold in $2"
}

# kea-ctrl-agent, forwarding "dhcp4" commands to the unix socket.
CA_PORT=$(pp_free_port 18000)
cat > "$WORK/ca.json" <<CONF
{"Control-agent": {
  "http-host": "127.0.0.1", "http-port": $CA_PORT,
  "control-sockets": {"dhcp4": {"socket-type": "unix", "socket-name": "$SOCK"}},
  "loggers": [{"name": "kea-ctrl-agent", "severity": "INFO",
               "output_options": [{"output": "$WORK/ca.log"}]}]}}
CONF
mkdir -p "$WORK/kea"
pp_kea_env "$WORK/ca.json"
env "${KEA_ENV[@]}" KEA_PIDFILE_DIR="$WORK/kea" KEA_LOCKFILE_DIR="$WORK/kea" \
    kea-ctrl-agent -c "$WORK/ca.json" > "$WORK/ca.stdout" 2>&1 &
PIDS+=($!)
pp_wait_port tcp "$CA_PORT"

run_mode() {  # MT: false or true
    local mt=$1
    python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
        "$WORK/quickstart.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" \
        --profiles "$PROFILES_DIR"
    # Phone records of this mode only (render all counts the phones of one run).
    jq --arg sock "$SOCK" --argjson mt "$mt" --arg db "$WORK/state-$mt.db" '
        .Dhcp4["control-socket"] = {"socket-type": "unix", "socket-name": $sock}
      | .Dhcp4["hooks-libraries"][0].parameters["state-db"] = $db
      | .Dhcp4["multi-threading"] = {"enable-multi-threading": $mt, "thread-pool-size": 2,
                                     "packet-queue-size": 16}' \
        "$WORK/quickstart.json" > "$WORK/kea.json"
    rm -f "$WORK/kea.log"
    DHCP=$(pp_free_port 12667)
    pp_start_kea "$WORK/kea.json" "$DHCP"
    local status
    local st='{"command": "phoneprov-status", "service": ["dhcp4"]}'

    # Before any phone: loaded, counters at 0, but the reserved Yealink already rendered
    # (render-reserved); the totals exist at 0, a vendor's statistics only once it has a
    # count (Yealink's render), none for the others.
    for _ in $(seq 50); do
        status=$(ca "$st")
        [ "$(printf '%s' "$status" | jq '.arguments["renders-pending"]')" = 0 ] && break
        sleep 0.1
    done
    expect "status at start" "$status" '.result == 0 and .arguments.catalogue.vendors == 13
        and .arguments.vendors.yealink["phones-identified"] == 0
        and .arguments.vendors.yealink.renders == 1
        and .arguments["reserved-left"] == 0 and .arguments["files-current"] == 0
        and .arguments.registry.rows > 0'
    [ -f "$OUT/yealink/$(pp_token 00:15:65:aa:bb:cc)/001565aabbcc.cfg" ] || pp_fail "the reserved Yealink not rendered at start ($mt)"
    expect "statistics at start" "$(ca '{"command": "statistic-get-all", "service": ["dhcp4"]}')" \
        '.result == 0 and .arguments["phoneprov.phones-identified"][0][0] == 0
        and .arguments["phoneprov.yealink.phones-identified"][0][0] == 0
        and .arguments["phoneprov.yealink.renders"][0][0] == 1
        and .arguments["phoneprov.snom.phones-identified"] == null'

    # A reserved Yealink boots: DISCOVER and REQUEST identified, OFFER and ACK carry options.
    pp_simulate --mac "$YL" --vendor-class yealink --no-fetch --json > "$WORK/sim.json" \
        || pp_fail "simulate of the Yealink ($mt)"
    for _ in $(seq 50); do
        status=$(ca "$st")
        [ "$(printf '%s' "$status" | jq '.arguments["renders-pending"]')" = 0 ] && break
        sleep 0.1
    done
    # Its file was current: checked, not rendered again.
    expect "status after a boot" "$status" '.arguments.vendors.yealink["phones-identified"] == 2
        and .arguments.vendors.yealink["options-injected"] == 2
        and .arguments.vendors.yealink.renders == 1 and .arguments["files-current"] == 1
        and .arguments.totals["phones-identified"] == 2
        and .arguments.totals["render-failures"] == 0
        and .arguments["queue-depth"] == 0'
    [ -f "$OUT/yealink/$(pp_token 00:15:65:aa:bb:cc)/001565aabbcc.cfg" ] || pp_fail "no rendered file ($mt)"
    # statistic-get-all shows them.
    local all
    all=$(ca '{"command": "statistic-get-all", "service": ["dhcp4"]}')
    expect "statistic-get-all" "$all" '.result == 0
        and .arguments["phoneprov.yealink.phones-identified"][0][0] == 2
        and .arguments["phoneprov.yealink.options-injected"][0][0] == 2
        and .arguments["phoneprov.yealink.renders"][0][0] == 1
        and .arguments["phoneprov.phones-identified"][0][0] == 2
        and .arguments["phoneprov.yealink.render-failures"][0][0] == 0
        and .arguments["phoneprov.snom.phones-identified"] == null'
    # A laptop moves nothing; statistic-get(-all) are current without a phoneprov-status
    # (the hook updates them in Kea's command_processed hook point).
    pp_simulate --mac 3c:22:fb:01:02:03 --vendor-class "MSFT 5.0" --no-fetch --json > /dev/null \
        || pp_fail "laptop got no lease ($mt)"
    pp_simulate --mac 00:04:13:01:02:03 --vendor-class snom --no-fetch --json > /dev/null \
        || pp_fail "simulate of the Snom ($mt)"
    all=$(ca '{"command": "statistic-get-all", "service": ["dhcp4"]}')
    expect "statistic-get-all without a status" "$all" \
        '.arguments["phoneprov.snom.phones-identified"][0][0] == 2
        and .arguments["phoneprov.phones-identified"][0][0] == 4
        and .arguments["phoneprov.cisco.phones-identified"] == null'
    pp_simulate --mac 00:04:13:01:02:04 --vendor-class snom --no-fetch --json > /dev/null \
        || pp_fail "simulate of a second Snom ($mt)"
    expect "statistic-get without a status" "$(sock '{"command": "statistic-get",
        "arguments": {"name": "phoneprov.snom.phones-identified"}}')" \
        '.result == 0 and .arguments["phoneprov.snom.phones-identified"][0][0] == 4'

    # identify, over the unix socket directly and through the agent.
    expect "identify (socket)" "$(sock '{"command": "phoneprov-identify",
        "arguments": {"mac": "00:15:65:aa:bb:cc", "vendor-class": "yealink"}}')" \
        '.result == 0 and .arguments == {"phone": true, "vendor": "yealink", "model": "",
                                         "confidence": "sure", "class": "PHONEPROV_YEALINK"}'
    expect "identify, bad MAC" "$(ca '{"command": "phoneprov-identify", "service": ["dhcp4"],
        "arguments": {"mac": "nope"}}')" \
        '.result == 1 and (.text | startswith("phoneprov-identify: ")
                          and contains("nope") and endswith("is not a MAC address"))'

    # render: the file comes back.
    rm -f "$OUT/yealink/$(pp_token 00:15:65:aa:bb:cc)/001565aabbcc.cfg"
    expect "render all" "$(ca '{"command": "phoneprov-render", "service": ["dhcp4"],
        "arguments": {"all": true}}')" '.result == 0 and .arguments.queued == 3'
    for _ in $(seq 300); do [ -f "$OUT/yealink/$(pp_token 00:15:65:aa:bb:cc)/001565aabbcc.cfg" ] && break; sleep 0.1; done
    [ -f "$OUT/yealink/$(pp_token 00:15:65:aa:bb:cc)/001565aabbcc.cfg" ] || pp_fail "phoneprov-render did not render ($mt)"
    grep -qxF "account.1.user_name = 1001" "$OUT/yealink/$(pp_token 00:15:65:aa:bb:cc)/001565aabbcc.cfg" \
        || pp_fail "re-rendered file lacks the account ($mt)"

    # reload: good, then a broken profile (error, the running set stays), then mended.
    expect "reload" "$(ca '{"command": "phoneprov-reload", "service": ["dhcp4"]}')" \
        '.result == 0 and .arguments.vendors == 13 and .arguments.reloads == 1'
    cp "$PROFILES_DIR/yealink/profile.json" "$WORK/yealink.json"
    echo '{"id": "yealink",' > "$PROFILES_DIR/yealink/profile.json"
    local bad
    bad=$(ca '{"command": "phoneprov-reload", "service": ["dhcp4"]}')
    expect "reload of a broken profile" "$bad" '.result == 1
        and (.text | contains("yealink/profile.json"))
        and (.text | endswith("(the running profiles stay)"))'
    expect "identify after a failed reload" "$(ca '{"command": "phoneprov-identify",
        "service": ["dhcp4"], "arguments": {"mac": "00:15:65:12:34:56"}}')" \
        '.result == 0 and .arguments.vendor == "yealink"'
    pp_simulate --mac 00:15:65:12:34:56 --vendor-class yealink --no-fetch --json > "$WORK/sim2.json" \
        || pp_fail "simulate after a failed reload ($mt)"
    [ "$(jq -r '.["ack-options"][] | select(.code == 66) | .text' "$WORK/sim2.json")" \
        = "http://127.0.0.1:8080/prov/yealink/" ] || pp_fail "no option 66 after a failed reload ($mt)"
    cp "$WORK/yealink.json" "$PROFILES_DIR/yealink/profile.json"
    expect "reload, mended" "$(ca '{"command": "phoneprov-reload", "service": ["dhcp4"]}')" \
        '.result == 0 and .arguments.reloads == 2'
    grep -q "INFO  \[kea-dhcp4.phoneprov-hooks.*PHONEPROV_RELOAD_OK" "$WORK/kea.log" \
        || pp_fail "no INFO PHONEPROV_RELOAD_OK in the log ($mt)"
    grep -q "ERROR \[kea-dhcp4.phoneprov-hooks.*PHONEPROV_RELOAD_FAILED" "$WORK/kea.log" \
        || pp_fail "no ERROR PHONEPROV_RELOAD_FAILED in the log ($mt)"
    # Packets still flow after the reloads.
    pp_simulate --mac 00:15:65:12:34:57 --vendor-class yealink --no-fetch --json > /dev/null \
        || pp_fail "simulate after the reloads ($mt)"

    # Stop this kea-dhcp4 (by PID); its statistics go with it.
    kill "$KEA_PID"
    for _ in $(seq 50); do kill -0 "$KEA_PID" 2>/dev/null || break; sleep 0.1; done
    ! grep -E "FATAL|PHONEPROV_COMMAND_ERROR" "$WORK/kea.log" || pp_fail "errors in the log ($mt)"
}

run_mode false
run_mode true
echo "PASS: commands and statistics through kea-ctrl-agent (single- and multi-threaded)"
