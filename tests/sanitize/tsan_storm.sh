#!/usr/bin/env bash
# A render storm against kea-dhcp4 with multi-threading (4 packet threads), the hook
# with 2 render threads re-rendering 200 reserved phones on every exchange, ACKs
# parked until their render is done; perfdhcp for PHONEPROV_TSAN_STORM_SECONDS.
# Run by tests/sanitize/tsan.sh under ThreadSanitizer; usable alone as a smoke test.
source "$(dirname "$0")/../integration/lib.sh"
pp_setup
SECONDS_RUN=${PHONEPROV_TSAN_STORM_SECONDS:-10}
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/base.json" --work "$WORK" --out "$OUT" --hook "$HOOK_SO" --profiles "$PROFILES_DIR"
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
c = json.load(open(work + "/base.json"))
d = c["Dhcp4"]
d["multi-threading"] = {"enable-multi-threading": True, "thread-pool-size": 4, "packet-queue-size": 256}
d["subnet4"][0]["pools"] = [{"pool": "127.1.0.0 - 127.1.3.255"}]
hp = d["hooks-libraries"][0]["parameters"]
hp.update({"render-interval": 0, "render-threads": 2, "render-wait-ms": 1000})
# Debug logging exercises the hook's trace lines on every thread; keep all of it (Kea
# rotates at 10 MB by default, which took away the multi-threading line checked below).
for o in d["loggers"][0]["output_options"]:
    o.update({"maxsize": 1073741824, "maxver": 10})
# perfdhcp -b mac=00:15:65:00:00:00 -R 200 uses the MACs 00:15:65:00:00:00 + [0, 200).
d["subnet4"][0]["reservations"] = [
    {"hw-address": "00:15:65:00:00:%02x" % i, "hostname": "t%d" % i,
     "user-context": {"phoneprov": {"sip-server": "10.0.0.1",
                                    "accounts": [{"user": str(2000 + i), "password": "p%d" % i}]}}}
    for i in range(200)]
json.dump(c, open(work + "/kea.json", "w"))
PY
DHCP=$(pp_free_port_pair)
pp_start_kea "$WORK/kea.json" "$DHCP"
VCHEX=$(printf 'yealink' | od -An -tx1 | tr -d ' \n')
perfdhcp -4 -l 127.0.0.1 -L "$((DHCP + 1))" -N "$DHCP" -r 800 -p "$SECONDS_RUN" -R 200 \
    -b mac=00:15:65:00:00:00 -o "60,$VCHEX" 127.0.0.1 > "$WORK/perfdhcp.log" 2>&1 || true
acks=$(awk '/Statistics for: REQUEST-ACK/{f=1} f && /received packets:/{print $3; exit}' "$WORK/perfdhcp.log")
[ "${acks:-0}" -gt 0 ] || { cat "$WORK/perfdhcp.log"; pp_fail "no ACK in the storm"; }
kill -0 "$KEA_PID" || pp_fail "kea-dhcp4 died"
nfiles=$(find "$OUT/yealink" -name '001565*.cfg' | wc -l)
[ "$nfiles" -gt 0 ] || pp_fail "no per-device file rendered"
grep -qs "DHCP4_MULTI_THREADING_INFO enabled: yes" "$WORK"/kea.log* || pp_fail "Kea did not run multi-threaded"
kill "$KEA_PID"; wait "$KEA_PID" 2>/dev/null || true
echo "ok: storm: $acks exchanges, $nfiles phones rendered, multi-threaded Kea"
