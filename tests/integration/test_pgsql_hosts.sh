#!/usr/bin/env bash
# Device data from Kea's host database, for real: a private PostgreSQL with the schema
# from `kea-admin db-init pgsql`, reservations inserted with SQL, kea-dhcp4 with
# `hosts-database` and the hook. A Yealink and a Polycom boot: Kea gives the reserved
# address, the hook its options and a file with the account from the database,
# served by nginx. `phoneprov render` reads the same database offline. Then the database
# goes down: the files stay as they were, the failure is logged; it comes back: the next
# sighting renders the new data.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/pg_lib.sh"
pp_setup
pp_pg_start

pp_pg_add_host 00:15:65:aa:bb:01 127.0.0.51 1 desk-1 \
    '{"phoneprov": {"sip-server": "127.0.0.1", "accounts": [{"user": "2001", "password": "db-pw-one", "display-name": "Desk One"}]}}'
pp_pg_add_host 00:04:f2:aa:bb:02 127.0.0.52 1 desk-2 \
    '{"phoneprov": {"sip-server": "127.0.0.1", "accounts": [{"user": "2002", "password": "db-pw-two", "display-name": "Desk Two"}]}}'
# A phone that never boots in this test: only the offline render makes its file.
pp_pg_add_host 00:15:65:aa:bb:03 127.0.0.53 1 desk-3 \
    '{"phoneprov": {"sip-server": "127.0.0.1", "accounts": [{"user": "2003", "password": "db-pw-three"}]}}'

HTTP=$(pp_free_port 18280); pp_start_nginx "$HTTP"
"$PHONEPROV" keygen --out "$WORK/site.key" > /dev/null   # the site key (device-tokens)
cat > "$WORK/kea.json" <<CONF
{"Dhcp4": {
  "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
  "lease-database": {"type": "memfile", "persist": false},
  "hosts-database": $(jq -c '. + {"on-fail": "serve-retry-continue", "max-reconnect-tries": 1000, "reconnect-wait-time": 500}' <<<"$PG_ACCESS"),
  "valid-lifetime": 3600,
  "hooks-libraries": [{"library": "$HOOK_SO", "parameters": {
      "output-dir": "$OUT", "base-url": "http://127.0.0.1:$HTTP/prov",
      "profiles-dir": "$PROFILES_DIR", "file-group": "$PP_GROUP", "render-interval": 0,
      "key-file": "$WORK/site.key"}}],
  "subnet4": [{"id": 1, "subnet": "127.0.0.0/8", "pools": [{"pool": "127.0.0.100 - 127.0.0.200"}]}],
  "loggers": [{"name": "kea-dhcp4", "severity": "DEBUG", "debuglevel": 40,
               "output_options": [{"output": "$WORK/kea.log"}]}]
}}
CONF
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }
DHCP=$(pp_free_port 12267)
pp_start_kea "$WORK/kea.json" "$DHCP"
grep -q "PHONEPROV_HOST_DB_USED" "$WORK/kea.log" || pp_fail "the hook did not see hosts-database"
! grep "PHONEPROV_HOST_DB_USED" "$WORK/kea.log" | grep -q "$PG_PASSWORD" || pp_fail "database password logged"

boot() {  # MAC VENDOR_CLASS FILE OUTPUT
    pp_simulate --mac "$1" --vendor-class "$2" --file "$3" --json --output "$4"
}
URL="http://127.0.0.1:$HTTP/prov"
boot 00:15:65:aa:bb:01 yealink '{mac}.cfg' "$WORK/y.cfg" > "$WORK/y.json" || pp_fail "the Yealink did not boot"
[ "$(jq -r .assigned "$WORK/y.json")" = 127.0.0.51 ] || pp_fail "Yealink address $(jq -r .assigned "$WORK/y.json"), not its reservation"
# Reservations in the database: the token is computed on the DHCP path (device-tokens).
[ "$(jq -r '.["ack-options"][] | select(.code == 66) | .text' "$WORK/y.json")" = "$URL/yealink/$(pp_token 00:15:65:aa:bb:01)/" ] \
    || pp_fail "Yealink option 66"
Y="$OUT/yealink/$(pp_token 00:15:65:aa:bb:01)/001565aabb01.cfg"
for line in "account.1.user_name = 2001" "account.1.password = db-pw-one" "account.1.display_name = Desk One"; do
    grep -qxF "$line" "$Y" || pp_fail "missing '$line' in $Y"
done
cmp "$Y" "$WORK/y.cfg" || pp_fail "the Yealink's file over HTTP differs"

boot 00:04:f2:aa:bb:02 "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018" '{mac}-user.cfg' "$WORK/p.cfg" \
    > "$WORK/p.json" || pp_fail "the Polycom did not boot"
[ "$(jq -r .assigned "$WORK/p.json")" = 127.0.0.52 ] || pp_fail "Polycom address"
grep -q 'reg.1.auth.password="db-pw-two"' "$OUT/polycom/$(pp_token 00:04:f2:aa:bb:02)/0004f2aabb02-user.cfg" || pp_fail "Polycom account"
! grep -q "db-pw-" "$WORK/kea.log" || pp_fail "a password from the database reached the log"

# Offline, from the same configuration: every phone of the database, or one MAC.
mkdir -p "$WORK/offline" "$WORK/one"
"$PHONEPROV" render --config "$WORK/kea.json" --output "$WORK/offline" > "$WORK/render.out" \
    2> "$WORK/render.err" || { cat "$WORK/render.err"; pp_fail "phoneprov render with hosts-database"; }
grep -q "^3 phones with data in the host database" "$WORK/render.err" \
    || { cat "$WORK/render.err"; pp_fail "phoneprov render did not read the three database phones"; }
cmp "$Y" "$WORK/offline/yealink/$(pp_token 00:15:65:aa:bb:01)/001565aabb01.cfg" || pp_fail "offline render differs from the hook's"
grep -q 'reg.1.auth.password="db-pw-two"' "$WORK/offline/polycom/$(pp_token 00:04:f2:aa:bb:02)/0004f2aabb02-user.cfg" \
    || pp_fail "offline Polycom account"
grep -qxF "account.1.password = db-pw-three" "$WORK/offline/yealink/$(pp_token 00:15:65:aa:bb:03)/001565aabb03.cfg" \
    || pp_fail "offline render of a database-only phone"
[ ! -e "$OUT/yealink/001565aabb03.cfg" ] || pp_fail "the hook rendered a phone it never saw"
! grep -q "db-pw-\|$PG_PASSWORD" "$WORK/render.err" "$WORK/render.out" || pp_fail "phoneprov render printed a secret"
"$PHONEPROV" render --config "$WORK/kea.json" --output "$WORK/one" --mac 00:15:65:aa:bb:03 \
    > "$WORK/one.out" 2>&1 || { cat "$WORK/one.out"; pp_fail "phoneprov render --mac with hosts-database"; }
cmp "$WORK/offline/yealink/$(pp_token 00:15:65:aa:bb:03)/001565aabb03.cfg" "$WORK/one/yealink/$(pp_token 00:15:65:aa:bb:03)/001565aabb03.cfg" \
    || pp_fail "render --mac from the database differs"
[ ! -e "$WORK/one/polycom/$(pp_token 00:04:f2:aa:bb:02)/0004f2aabb02-user.cfg" ] || pp_fail "render --mac rendered another phone"

# The database goes down; the Yealink's data changed there just before.
pp_pg_sql "UPDATE hosts SET user_context = replace(user_context, 'db-pw-one', 'db-pw-new')
           WHERE dhcp_identifier = decode('001565aabb01', 'hex');"
before=$(sha256sum < "$Y")
pp_pg_stop
boot 00:15:65:aa:bb:01 yealink '{mac}.cfg' "$WORK/y2.cfg" > "$WORK/y2.json" || true
for _ in $(seq 100); do grep -q "PHONEPROV_HOST_DB_FAILED" "$WORK/kea.log" && break; sleep 0.1; done
grep -q "PHONEPROV_HOST_DB_FAILED.*00:15:65:aa:bb:01" "$WORK/kea.log" || pp_fail "no failure logged for the phone"
[ "$(sha256sum < "$Y")" = "$before" ] || pp_fail "the file changed while the database was down"
kill -0 "$KEA_PID" || pp_fail "kea-dhcp4 died with its database"

# Back: the next sighting renders the new data, without a reload.
pp_pg_start
ok=""
for _ in $(seq 20); do
    boot 00:15:65:aa:bb:01 yealink '{mac}.cfg' "$WORK/y3.cfg" > "$WORK/y3.json" 2>/dev/null || true
    if grep -qxF "account.1.password = db-pw-new" "$Y"; then ok=1; break; fi
    sleep 1
done
[ -n "$ok" ] || pp_fail "the new data was not rendered after the database came back"
[ "$(stat -c '%a %G' "$Y")" = "640 $PP_GROUP" ] || pp_fail "mode/group $(stat -c '%a %G' "$Y")"
echo "PASS: reservations from PostgreSQL rendered, database outage survived (DHCP $DHCP, PG $PG_PORT)"
