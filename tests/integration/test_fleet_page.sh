#!/usr/bin/env bash
# Issue 24, point 5: the fleet page in a real browser. kea-dhcp4 with the hook's records;
# a reserved Yealink boots and fetches its file, a second phone (known by its vendor
# class only, no reservation) gets its common files (provision-unknown): rendered. `phoneprov fleet` writes the page; nginx serves it with the
# shipped admin location (packaging/nginx/fleet-admin.conf: basic authentication, its
# own folder), and headless Chromium loads it: the tiles count the phones by state, the
# table shows both phones, the search filters it. The screenshot is kept in
# $BUILD_DIR/Testing/artifacts/fleet-page.png.
# nginx and Chromium run in a network namespace of their own (only loopback): the
# browser cannot send anything anywhere else.
source "$(dirname "$0")/lib.sh"
pp_setup

command -v chromium > /dev/null || { echo "SKIP: no chromium (install-deps.sh all installs it)"; exit 77; }

YL=00:15:65:aa:bb:cc
OTHER=00:1b:21:aa:bb:01
HTTP=$(pp_free_port 18580)
pp_records_config "$HTTP"
DHCP=$(pp_free_port 12967)
pp_start_kea "$WORK/kea.json" "$DHCP"
pp_start_nginx "$HTTP" "$FETCH_SOCK"
pp_await_idle "$SOCK" 30 || pp_fail "the start-up render did not finish"
ctl() { pp_sock "$SOCK" "$1" 20; }
state_of() { ctl "{\"command\": \"phoneprov-get\", \"arguments\": {\"mac\": \"$1\"}}" | jq -r .arguments.state; }

pp_simulate --mac "$YL" --vendor-class "yealink T46S 66.86.0.15" --file '{mac}.cfg' --quiet \
    --output "$WORK/fetched.cfg" || pp_fail "simulate of the reserved phone"
pp_simulate --mac "$OTHER" --vendor-class "yealink T46S 66.86.0.15" --no-fetch --quiet \
    || pp_fail "simulate of the phone without reservation"
pp_wait_until 10 eval '[ "$(state_of "$YL")" = fetched ] && [ "$(state_of "$OTHER")" = rendered ]' \
    || pp_fail "states: $YL $(state_of "$YL"), $OTHER $(state_of "$OTHER")"

# The page, written where the admin location serves it from.
ADMIN="$WORK/admin"
install -d -m 0750 -o root -g www-data "$ADMIN"
"$PHONEPROV" fleet --config "$WORK/kea.json" --output "$ADMIN/index.html" || pp_fail "phoneprov fleet exit $?"
[ "$(stat -c %a "$ADMIN/index.html")" = 644 ] || pp_fail "page mode $(stat -c %a "$ADMIN/index.html")"
! grep -q s3cret "$ADMIN/index.html" || pp_fail "a password in the fleet page"
grep -q "\"mac\":\"$YL\"" "$ADMIN/index.html" || pp_fail "the page's data has no $YL"
# The data block holds no '<' (no way out of its <script> element).
python3 - "$ADMIN/index.html" <<'PY' || pp_fail "the page's data block"
import json, re, sys
m = re.search(r'<script id="fleet-data" type="application/json">(.*?)</script>', open(sys.argv[1]).read(), re.S)
assert m and "<" not in m.group(1), "a '<' in the data"
assert len(json.loads(m.group(1))["phones"]) == 2
PY

# nginx with the shipped admin location, and Chromium, in a namespace with only loopback.
printf 'admin:%s\n' "$(openssl passwd -6 -salt fleettest 'pw-for-the-test')" > "$WORK/admin.htpasswd"
chgrp www-data "$WORK/admin.htpasswd" && chmod 0640 "$WORK/admin.htpasswd"
sed -e "s|/etc/kea-phoneprov/admin.htpasswd|$WORK/admin.htpasswd|" -e "s|/var/lib/kea-phoneprov/admin/|$ADMIN/|" \
    "$SOURCE_DIR/packaging/nginx/fleet-admin.conf" > "$WORK/fleet-admin.conf"
mkdir -p "$WORK/ngx-admin"
cat > "$WORK/ngx-admin/nginx.conf" <<CONF
user www-data;
worker_processes 1;
daemon off;
pid $WORK/ngx-admin/nginx.pid;
error_log $WORK/ngx-admin/error.log warn;
events { worker_connections 64; }
http {
    access_log $WORK/ngx-admin/access.log;
    client_body_temp_path $WORK/ngx-admin/body;
    proxy_temp_path $WORK/ngx-admin/proxy;
    fastcgi_temp_path $WORK/ngx-admin/fastcgi;
    uwsgi_temp_path $WORK/ngx-admin/uwsgi;
    scgi_temp_path $WORK/ngx-admin/scgi;
    server {
        listen 127.0.0.1:8088;
        include $WORK/fleet-admin.conf;
        location /prov/ { alias $OUT/; }
    }
}
CONF
ART="$BUILD_DIR/Testing/artifacts"
mkdir -p "$ART"
rm -f "$ART/fleet-page.png"
cat > "$WORK/in-netns.sh" <<'NS'
set -euo pipefail
ip link set lo up
nginx -c "$WORK/ngx-admin/nginx.conf" -e "$WORK/ngx-admin/error.log" &
NGINX=$!
trap 'kill $NGINX 2>/dev/null; wait $NGINX 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:8088/ && break; sleep 0.1; done
URL=http://127.0.0.1:8088/phoneprov-admin/
# Without the password: 401; with it: the page, not cached, not framed.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 401 ] || { echo "FAIL: no authentication asked"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -u admin:wrong "$URL")" = 401 ] || { echo "FAIL: a wrong password let in"; exit 1; }
curl -s -D "$WORK/headers" -o "$WORK/served.html" -u admin:pw-for-the-test "$URL"
grep -qi '^HTTP/1.1 200' "$WORK/headers" && grep -qi '^Cache-Control: no-store' "$WORK/headers" \
    && grep -qi '^X-Frame-Options: DENY' "$WORK/headers" || { echo "FAIL: headers: $(cat "$WORK/headers")"; exit 1; }
cmp -s "$WORK/served.html" "$WORK/admin/index.html" || { echo "FAIL: served page differs"; exit 1; }
# The page is not in the phones' tree, and the phones' tree does not lead to it.
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8088/prov/../phoneprov-admin/index.html")" != 200 ] \
    || { echo "FAIL: the page through the phones' tree"; exit 1; }
CHROME=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
        --disable-component-update --disable-sync --disable-default-apps --no-pings
        --user-data-dir="$WORK/chrome" --window-size=1280,1000 --virtual-time-budget=5000)
AUTH_URL=http://admin:pw-for-the-test@127.0.0.1:8088/phoneprov-admin/
timeout 90 "${CHROME[@]}" --dump-dom "$AUTH_URL" > "$WORK/dom.html" 2> "$WORK/chrome-dom.log" \
    || { echo "FAIL: chromium --dump-dom: $(tail -5 "$WORK/chrome-dom.log")"; exit 1; }
timeout 90 "${CHROME[@]}" --screenshot="$ART/fleet-page.png" "$AUTH_URL" > /dev/null 2> "$WORK/chrome-shot.log" \
    || { echo "FAIL: chromium --screenshot: $(tail -5 "$WORK/chrome-shot.log")"; exit 1; }
# The search, from a link that carries it (#q=...): only the matching phone is shown.
timeout 90 "${CHROME[@]}" --dump-dom "${AUTH_URL}#q=00:1b:21" > "$WORK/dom-search.html" 2> "$WORK/chrome-search.log" \
    || { echo "FAIL: chromium --dump-dom with a search: $(tail -5 "$WORK/chrome-search.log")"; exit 1; }
NS

WORK="$WORK" OUT="$OUT" ART="$ART" timeout 240 unshare -n bash "$WORK/in-netns.sh" || pp_fail "in the namespace"
DOM="$WORK/dom.html"
# The script ran: tiles by state, both phones in the table with their state, the rollout text.
python3 - "$DOM" "$YL" "$OTHER" <<'PY' || pp_fail "the page in Chromium: $(head -c 3000 "$DOM")"
import re, sys
dom, yl, other = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
def tile(state):
    m = re.search(r'id="tile-%s"[^>]*><b>(\d+)</b>' % re.escape(state), dom)
    return int(m.group(1)) if m else None
assert tile("fetched") == 1, ("tile fetched", tile("fetched"))
assert tile("rendered") == 1, ("tile rendered", tile("rendered"))
assert tile("seen") == 0, ("tile seen", tile("seen"))
assert tile("failed") == 0, ("tile failed", tile("failed"))
rows = dict(re.findall(r'<tr data-mac="([0-9a-f:]+)">(.*?)</tr>', dom))
assert set(rows) == {yl, other}, ("rows", sorted(rows))
cells = lambda mac: re.findall(r'<td[^>]*>(.*?)</td>', rows[mac])
assert cells(yl)[:4] == [yl, "yealink", "T46S", "127.0.0.1"], cells(yl)
assert '>fetched<' in rows[yl] and '>rendered<' in rows[other], rows
assert re.search(r'1 phone fetched their file after their ACK: median \d+ s', dom), "rollout text"
assert "2 of 2 shown" in dom, "count"
search = open(sys.argv[1].replace("dom.html", "dom-search.html")).read()
assert re.findall(r'<tr data-mac="([0-9a-f:]+)">', search) == [other], "search rows"
assert "1 of 2 shown" in search, "search count"
print("fleet page: tiles, rows, rollout and search as expected")
PY
[ -s "$ART/fleet-page.png" ] && [ "$(head -c 8 "$ART/fleet-page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    || pp_fail "no PNG screenshot at $ART/fleet-page.png"
echo "PASS: fleet page in Chromium (screenshot $ART/fleet-page.png)"
