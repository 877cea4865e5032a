#!/usr/bin/env bash
# Issue 7, the packages. The DEB installs (apt-get); kea-dhcp4, run as the user
# Debian's service runs it as (_kea), loads the installed hook from a config that
# names only installed paths (the installed example, ports and logs moved); a
# phone boots with /usr/bin/phoneprov and gets its option and its file over
# nginx (through the installed site and snippet) and tftpd-hpa (as the installed
# example configures it). Purge removes everything of ours and keeps the files
# an admin put into the output folder; a second install and purge leaves
# nothing. The RPM: contents, dependencies and scripts (rpm -qlp, -qpR).
#
# It changes the system: installs and purges kea-phoneprov. Everything it
# changes is undone at exit, on failure too; it refuses to run where the package
# was installed by someone else.
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || pp_fail "run as root (installs and purges a package)"
export DEBIAN_FRONTEND=noninteractive
PKG=kea-phoneprov
HOOK=/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_phoneprov.so
STATE=/var/lib/kea-phoneprov
WWW=$STATE/www
DOC=/usr/share/doc/kea-phoneprov
# Written before installing, removed once everything is undone: the state to
# restore, so that a run killed on the way (ctest's timeout) is undone by the next.
MARK=/var/tmp/kea-phoneprov-test-packages.state

pkg_known() {  # installed, or purge still owed (config-files)
    local s
    s=$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null) || return 1
    [ "${s##* }" != not-installed ]
}
# Waits for dpkg's lock (another apt-get) rather than failing.
APT=(apt-get -y -q -o DPkg::Lock::Timeout=120)
pkg_purge() { "${APT[@]}" purge "$PKG" > "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; return 1; }; }
pkg_install() {
    declare -p GROUP_EXISTED WERE_IN > "$MARK"
    "${APT[@]}" install "$DEB" > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; pp_fail "apt-get install $DEB"; }
}
in_group() { id -nG "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$PP_GROUP"; }

# One run at a time on this machine (two ctest runs on a shared machine): they
# would share the package, its folders and build/pkg.
mkdir -p /run/lock
exec 9> /var/lock/kea-phoneprov-test-packages.lock
flock -w 240 9 || pp_fail "another run of this test holds /var/lock/kea-phoneprov-test-packages.lock"
# Not pp_setup: its group and memberships are for postinst to make.
WORK=$(mktemp -d /tmp/phoneprov-it.XXXXXX)
chmod 0755 "$WORK"
trap pp_cleanup EXIT
if pkg_known; then
    [ -e "$MARK" ] || pp_fail "$PKG is installed on this machine; this test would purge it: purge it first"
    pp_log "purging $PKG left by an interrupted run"
    pkg_purge
    rm -rf "$STATE"
fi
[ ! -e "$STATE" ] || pp_fail "$STATE exists; this test checks what purge leaves there: move it away first"
# What to restore: the group, and which of the users that postinst adds were in it.
if [ -f "$MARK" ]; then
    # shellcheck source=/dev/null
    source "$MARK"
else
    GROUP_EXISTED=$(getent group "$PP_GROUP" >/dev/null && echo yes || echo no)
    WERE_IN=()
    for u in _kea www-data tftp nginx; do in_group "$u" && WERE_IN+=("$u"); done
fi

# Stops kea-dhcp4, nginx and tftpd-hpa, keeps $WORK.
stop_servers() { PP_KEEP=1 pp_cleanup; PIDS=(); }

test_cleanup() {
    local rc=$? u
    stop_servers
    if pkg_known && [ -e "$MARK" ]; then pkg_purge || true; fi
    rm -rf "$STATE"               # the admin files this test wrote
    if [ "$GROUP_EXISTED" = no ]; then
        groupdel "$PP_GROUP" 2>/dev/null || true
    else
        for u in _kea www-data tftp nginx; do
            if in_group "$u" && [[ " ${WERE_IN[*]:-} " != *" $u "* ]]; then
                gpasswd -d "$u" "$PP_GROUP" > /dev/null || true
            fi
        done
    fi
    rm -f "$MARK"
    pp_cleanup
    exit $rc
}
trap test_cleanup EXIT

# --- build (incremental: the packages match the sources) -------------------
PACKAGES_DIR="$BUILD_DIR/packages" PKG_BUILD_DIR="$BUILD_DIR/pkg" \
    "$SOURCE_DIR/scripts/build-packages.sh" > "$WORK/build.log" || { cat "$WORK/build.log"; pp_fail "build-packages.sh"; }
DEB=$(ls "$BUILD_DIR"/packages/${PKG}_*.deb)
RPM=$(ls "$BUILD_DIR"/packages/${PKG}-*.rpm)
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD_DIR/pkg/CMakeCache.txt")
[ -n "$VERSION" ] || pp_fail "no project version in $BUILD_DIR/pkg/CMakeCache.txt"
KEA_VERSION=$(dpkg-query -W -f='${Version}' kea-common)
PACKED_HOOK="$BUILD_DIR/pkg/hook/libdhcp_phoneprov.so"
mapfile -t KEA_SONAMES < <(objdump -p "$PACKED_HOOK" | awk '$1 == "NEEDED" && $2 ~ /^libkea-/ {print $2}')
[ ${#KEA_SONAMES[@]} -gt 0 ] || pp_fail "the hook links no libkea"
# RE2's soname and package differ between releases (Debian 12: libre2.so.9 in libre2-9,
# with a version; Debian 13: libre2.so.11 in libre2-11-absl20240722, without one).
RE2_SONAME=$(objdump -p "$PACKED_HOOK" | awk '$1 == "NEEDED" && $2 ~ /^libre2\.so/ {print $2}')
[ -n "$RE2_SONAME" ] || pp_fail "the hook links no libre2"
RE2_PKG=$(dpkg-query -S "*/$RE2_SONAME" | sed -n '1s/:.*//p')

# --- the DEB, before installing ------------------------------------------------
[ "$(dpkg-deb -f "$DEB" Package)/$(dpkg-deb -f "$DEB" Version)" = "$PKG/$VERSION-1" ] \
    || pp_fail "DEB name/version: $(dpkg-deb -f "$DEB" Package) $(dpkg-deb -f "$DEB" Version)"
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for d in "kea-common (= $KEA_VERSION)" "kea-dhcp4-server (= $(dpkg-query -W -f='${Version}' kea-dhcp4-server))" \
         "$RE2_PKG" "libc6 (>="; do
    [[ "$DEPENDS" == *"$d"* ]] || pp_fail "Depends lacks '$d': $DEPENDS"
done
dpkg-deb -c "$DEB" | awk '{print $1, $2, $6}' > "$WORK/deb.list"
for entry in "-rw-r--r-- root/root ./usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_phoneprov.so" \
             "-rwxr-xr-x root/root ./usr/bin/phoneprov" \
             "-rw-r--r-- root/root ./usr/share/man/man1/phoneprov.1.gz" \
             "-rw-r--r-- root/root ./etc/nginx/snippets/kea-phoneprov.conf" \
             "-rw-r--r-- root/root ./etc/nginx/snippets/kea-phoneprov-lease-binding.conf"; do
    grep -qxF -- "$entry" "$WORK/deb.list" || pp_fail "DEB lacks '$entry'"
done
! grep -q ' ./var/' "$WORK/deb.list" || pp_fail "the DEB ships files under /var (postinst makes the output folder)"
# The nginx snippets are the admin's to edit: conffiles (lease-binding's included from the first, issue 21).
CONFFILES=$'/etc/nginx/snippets/kea-phoneprov-lease-binding.conf\n/etc/nginx/snippets/kea-phoneprov.conf'
[ "$(dpkg-deb -I "$DEB" conffiles | LC_ALL=C sort)" = "$CONFFILES" ] || pp_fail "DEB conffiles: $(dpkg-deb -I "$DEB" conffiles)"

# --- the RPM -------------------------------------------------------------------
rpm -qlp "$RPM" > "$WORK/rpm.list" 2>/dev/null
for f in "$HOOK" /usr/bin/phoneprov /usr/share/kea-phoneprov/profiles/yealink/profile.json \
         /usr/share/man/man1/phoneprov.1.gz /etc/nginx/snippets/kea-phoneprov.conf \
         "$DOC/examples/quickstart.json" "$DOC/examples/tftpd-hpa" "$DOC/examples/nginx-site.conf"; do
    grep -qxF "$f" "$WORK/rpm.list" || pp_fail "RPM lacks $f"
done
for d in /usr/lib/x86_64-linux-gnu/kea/hooks /etc/nginx/snippets /usr/share/man/man1; do
    ! grep -qxF "$d" "$WORK/rpm.list" || pp_fail "the RPM claims $d, a folder of others"
done
! grep -q '^/usr/lib/\.build-id' "$WORK/rpm.list" || pp_fail "the RPM ships build-id links"
# The same files as the DEB.
awk '$1 !~ /^d/ {sub(/^\./, "", $3); print $3}' "$WORK/deb.list" | sort > "$WORK/deb.files"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$RPM" 2>/dev/null | awk '$1 !~ /^d/ {print $2}' \
    | sort > "$WORK/rpm.files"
diff "$WORK/deb.files" "$WORK/rpm.files" || pp_fail "the RPM and the DEB hold different files"
rpm -qpR "$RPM" > "$WORK/rpm.req" 2>/dev/null
for so in "${KEA_SONAMES[@]}" "$RE2_SONAME" libstdc++.so.6; do
    grep -qxF "$so()(64bit)" "$WORK/rpm.req" || pp_fail "RPM does not require $so()(64bit)"
done
[ "$(rpm -qp --qf '%{NAME}-%{VERSION}-%{RELEASE}' "$RPM" 2>/dev/null)" = "$PKG-$VERSION-1" ] || pp_fail "RPM version"
[ "$(rpm -qpc "$RPM" 2>/dev/null | LC_ALL=C sort)" = "$CONFFILES" ] || pp_fail "RPM config files: $(rpm -qpc "$RPM" 2>/dev/null)"
rpm -qp --scripts "$RPM" > "$WORK/rpm.scripts" 2>/dev/null
for s in "postinstall scriptlet" "preuninstall scriptlet" "postuninstall scriptlet" pp_configure pp_purge_output; do
    grep -q "$s" "$WORK/rpm.scripts" || pp_fail "RPM scripts lack $s"
done

# --- install -------------------------------------------------------------------
pkg_install
for f in "$HOOK" /usr/bin/phoneprov /usr/share/kea-phoneprov/profiles/yealink/templates/mac.cfg.mustache \
         /usr/share/man/man1/phoneprov.1.gz "$DOC/README.md" "$DOC/profiles.md" "$DOC/copyright" \
         "$DOC/examples/quickstart.json" "$DOC/examples/tftpd-hpa" "$DOC/examples/nginx-site.conf" \
         "$DOC/examples/nginx-fleet-admin.conf" "$DOC/examples/tftpd-hpa-lease-binding.remap" \
         /etc/nginx/snippets/kea-phoneprov.conf /etc/nginx/snippets/kea-phoneprov-lease-binding.conf; do
    [ -f "$f" ] || pp_fail "not installed: $f"
done
for unit in "$SOURCE_DIR"/packaging/systemd/*.service; do
    [ -e "$unit" ] || continue
    [ -f "/usr/lib/systemd/system/$(basename "$unit")" ] || pp_fail "unit $(basename "$unit") not installed"
done
[ "$(stat -c '%a %U:%G' "$STATE")" = "755 root:root" ] || pp_fail "$STATE is $(stat -c '%a %U:%G' "$STATE")"
[ "$(stat -c '%a %U:%G' "$WWW")" = "2750 _kea:$PP_GROUP" ] || pp_fail "$WWW is $(stat -c '%a %U:%G' "$WWW")"
for u in _kea www-data tftp; do in_group "$u" || pp_fail "$u is not in group $PP_GROUP"; done
# The site key (hook parameter key-file's default): 32 bytes, read by Kea's user only.
[ "$(stat -c '%a %U %s' "$STATE/site.key")" = "600 _kea 32" ] || pp_fail "$STATE/site.key is $(stat -c '%a %U %s' "$STATE/site.key")"
dpkg-query -W -f='${Conffiles}' "$PKG" | grep -q '/etc/nginx/snippets/kea-phoneprov.conf ' || pp_fail "conffile not registered"
[ "$(/usr/bin/phoneprov --version)" = "phoneprov $VERSION" ] || pp_fail "phoneprov --version"
/usr/bin/phoneprov validate > "$WORK/validate.log" 2>&1 || { cat "$WORK/validate.log"; pp_fail "phoneprov validate with the installed profiles"; }
zcat /usr/share/man/man1/phoneprov.1.gz > "$WORK/phoneprov.1"
if command -v groff > /dev/null; then
    [ -z "$(groff -man -Tutf8 -ww -z "$WORK/phoneprov.1" 2>&1)" ] || pp_fail "man page warnings"
fi
grep -q '^\.TH PHONEPROV 1' "$WORK/phoneprov.1" || pp_fail "man page header"
for cmd in identify render keygen validate simulate pnp resync; do
    grep -qx "\.SS $cmd" "$WORK/phoneprov.1" || pp_fail "the man page lacks $cmd"
done

# --- Kea, as _kea, with the installed example config -----------------------------
EXAMPLE="$DOC/examples/quickstart.json"
[ "$(jq -r '.Dhcp4["hooks-libraries"][0].library' "$EXAMPLE")" = "$HOOK" ] || pp_fail "example's hook path"
[ "$(jq -r '.Dhcp4["hooks-libraries"][0].parameters["output-dir"]' "$EXAMPLE")" = "$WWW" ] || pp_fail "example's output-dir"
HTTP=$(pp_free_port 18280)
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$EXAMPLE" "$WORK/kea.json" --work "$WORK" \
    --out "$WWW" --hook "$HOOK" --http-port "$HTTP" --key-file "$STATE/site.key"
! grep -q -e profiles-dir -e "$SOURCE_DIR" -e "$BUILD_DIR" "$WORK/kea.json" || pp_fail "the config names a non-installed path"
pp_kea_run "$WORK/kea.json" kea-dhcp4 -t "$WORK/kea.json" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; pp_fail "kea-dhcp4 -t"; }
# Kea's pid and lock files go to $WORK/kea, its log to $WORK (log4cplus puts a
# lock file next to it): both writable by _kea.
mkdir -p "$WORK/kea" "$WORK/bin"
chown _kea "$WORK" "$WORK/kea"
cat > "$WORK/bin/kea-dhcp4" <<'SH'
#!/bin/sh
exec setpriv --reuid=_kea --regid=_kea --init-groups /usr/sbin/kea-dhcp4 "$@"
SH
chmod 0755 "$WORK/bin/kea-dhcp4"
DHCP=$(pp_free_port 12267)
PATH="$WORK/bin:$PATH" pp_start_kea "$WORK/kea.json" "$DHCP"
[ "$(ps -o user= -p "$KEA_PID")" = _kea ] || pp_fail "kea-dhcp4 does not run as _kea"
grep -q PHONEPROV_LOAD_OK "$WORK/kea.log" || pp_fail "the hook did not load"

# --- nginx with the installed site and snippet ----------------------------------
mkdir -p "$WORK/nginx"
ln -s /etc/nginx/snippets "$WORK/nginx/snippets"   # the site's relative include
sed -e "s|^\( *\)listen 8080;|\1listen 127.0.0.1:$HTTP;|" -e '/listen \[::\]/d' \
    "$DOC/examples/nginx-site.conf" > "$WORK/nginx/site.conf"
grep -q "listen 127.0.0.1:$HTTP;" "$WORK/nginx/site.conf" || pp_fail "the example site has no 'listen 8080;'"
cat > "$WORK/nginx/nginx.conf" <<CONF
user www-data;
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/nginx/access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    default_type application/octet-stream;
    include $WORK/nginx/site.conf;
}
CONF
nginx -t -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" > "$WORK/nginx/t.log" 2>&1 \
    || { cat "$WORK/nginx/t.log"; pp_fail "nginx -t with the installed site and snippet"; }
nginx -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log" &
PIDS+=($!)
pp_wait_port tcp "$HTTP"

# --- tftpd-hpa as the installed /etc/default example sets it up ------------------
TFTP=$(pp_free_port 16269)
source "$DOC/examples/tftpd-hpa"   # TFTP_USERNAME, TFTP_DIRECTORY, TFTP_OPTIONS
[ "$TFTP_DIRECTORY" = "$WWW" ] || pp_fail "the tftpd-hpa example serves $TFTP_DIRECTORY"
# As /etc/init.d/tftpd-hpa runs it (options unquoted), on loopback, in the foreground.
in.tftpd --foreground --listen --user "$TFTP_USERNAME" --address "127.0.0.1:$TFTP" \
    $TFTP_OPTIONS $TFTP_DIRECTORY &
PIDS+=($!)
pp_wait_port udp "$TFTP"

# --- a phone boots ----------------------------------------------------------------
# Its files are in its per-device folder, named with the site key postinst wrote.
TOKEN=$(pp_token 00:15:65:aa:bb:cc "$STATE/site.key")
FILE="$WWW/yealink/$TOKEN/001565aabbcc.cfg"
boot() {
    PHONEPROV=/usr/bin/phoneprov pp_simulate --mac 00:15:65:aa:bb:cc --vendor-class yealink \
        --file '{mac}.cfg' --json --output "$WORK/fetched.cfg" > "$WORK/sim.json"
}
# Unless the hook holds the ACK (render-wait-ms), the file may come after the
# phone's first fetch: like a phone, boot again once it is there.
if ! boot 2> "$WORK/boot1.log"; then
    for _ in $(seq 300); do [ -f "$FILE" ] && break; sleep 0.1; done
    boot || pp_fail "simulate: $(cat "$WORK/sim.json")"
fi
URL="http://127.0.0.1:$HTTP/prov/yealink/"
got=$(jq -r '.["ack-options"][] | select(.code == 66) | .text' "$WORK/sim.json")
[ "$got" = "$URL$TOKEN/" ] || pp_fail "option 66 is '$got', expected $URL$TOKEN/"
[ -f "$FILE" ] || pp_fail "no rendered $FILE"
[ "$(stat -c '%a %U:%G' "$FILE")" = "640 _kea:$PP_GROUP" ] || pp_fail "$FILE is $(stat -c '%a %U:%G' "$FILE")"
[ "$(stat -c '%G' "$WWW/yealink")" = "$PP_GROUP" ] || pp_fail "$WWW/yealink is not group $PP_GROUP"
[ "$(stat -c '%G' "$WWW/yealink/$TOKEN")" = "$PP_GROUP" ] || pp_fail "$WWW/yealink/$TOKEN is not group $PP_GROUP"
[ "$(( 0$(stat -c '%a' "$WWW/yealink/$TOKEN") & 7 ))" = 0 ] || pp_fail "$WWW/yealink/$TOKEN is open to the world"
grep -qxF "account.1.user_name = 1001" "$FILE" || pp_fail "$FILE lacks the account"
cmp "$FILE" "$WORK/fetched.cfg" || pp_fail "the file served by nginx differs"
tftp 127.0.0.1 "$TFTP" -m binary -c get "yealink/$TOKEN/001565aabbcc.cfg" "$WORK/tftp.cfg" || pp_fail "tftp get"
cmp "$FILE" "$WORK/tftp.cfg" || pp_fail "the file served by tftpd-hpa differs"
# The snippet: no listing, no dot files, read only, a rate limit.
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(http_code "$URL")" = 403 ] || pp_fail "a listing of $URL"
[ "$(http_code "http://127.0.0.1:$HTTP/prov/.phoneprov-tmp/")" = 403 ] || pp_fail "the temp folder is served"
# The manifest names every token folder: never served (dot folder, and 0700 root).
[ -f "$WWW/.phoneprov-state/manifest" ] || pp_fail "no manifest in $WWW/.phoneprov-state"
[ "$(http_code "http://127.0.0.1:$HTTP/prov/.phoneprov-state/manifest")" = 403 ] || pp_fail "the manifest is served"
tftp 127.0.0.1 "$TFTP" -m binary -c get .phoneprov-state/manifest "$WORK/tftp-manifest" 2>/dev/null
[ ! -s "$WORK/tftp-manifest" ] || pp_fail "the manifest is served over TFTP"
[ "$(http_code -X POST "${URL}$TOKEN/001565aabbcc.cfg")" = 403 ] || pp_fail "POST is not refused"
codes=$(curl -s -o /dev/null -w '%{http_code}\n' "${URL}$TOKEN/001565aabbcc.cfg?n=[1-120]" | sort | uniq -c)
grep -q ' 429$' <<< "$codes" || pp_fail "no rate limit: $codes"
grep -q ' 200$' <<< "$codes" || pp_fail "the burst was refused: $codes"

# --- purge: ours goes, the admin's stays ------------------------------------------
stop_servers
install -d -m 2750 -o root -g "$PP_GROUP" "$WWW/firmware"
echo "firmware" > "$WWW/firmware/T46S-66.86.0.15.rom"
echo "ring" > "$WWW/yealink/ring-admin.wav"
chgrp "$PP_GROUP" "$WWW/firmware/T46S-66.86.0.15.rom" "$WWW/yealink/ring-admin.wav"
dpkg-query -L "$PKG" > "$WORK/files"
pkg_purge || pp_fail "purge"
! pkg_known || pp_fail "$PKG still known to dpkg after purge"
while read -r f; do
    [ -e "$f" ] || continue
    [ -d "$f" ] && dpkg-query -S "$f" > /dev/null 2>&1 && continue   # a folder of other packages
    pp_fail "left after purge: $f"
done < "$WORK/files"
(cd "$STATE" && find . | sort) > "$WORK/left"
printf '%s\n' . ./www ./www/firmware ./www/firmware/T46S-66.86.0.15.rom ./www/yealink \
    ./www/yealink/ring-admin.wav | sort > "$WORK/expected"
diff "$WORK/expected" "$WORK/left" || pp_fail "purge left other than the admin's files in $STATE"
[ "$(cat "$WWW/firmware/T46S-66.86.0.15.rom")" = firmware ] || pp_fail "the admin's firmware changed"
getent group "$PP_GROUP" > /dev/null || pp_fail "purge deleted group $PP_GROUP"

# --- again over the admin's files; once they are gone, purge leaves nothing -------
pkg_install
[ "$(stat -c '%a %U:%G' "$WWW")" = "2750 _kea:$PP_GROUP" ] || pp_fail "reinstall: $WWW is $(stat -c '%a %U:%G' "$WWW")"
rm -r "$WWW/firmware" "$WWW/yealink"
pkg_purge || pp_fail "second purge"
[ ! -e "$STATE" ] || pp_fail "$STATE left after purge: $(find "$STATE")"
echo "PASS: packages ($(basename "$DEB"), $(basename "$RPM")) install, serve a phone (DHCP $DHCP, HTTP $HTTP, TFTP $TFTP) and purge"
