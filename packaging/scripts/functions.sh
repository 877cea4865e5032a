# Shared by the DEB and RPM maintainer scripts (inserted into each by
# packaging/CMakeLists.txt). POSIX sh; no bashisms, no `local`.
PP_GROUP=phoneprov
PP_STATE_DIR=/var/lib/kea-phoneprov
PP_OUTPUT_DIR=/var/lib/kea-phoneprov/www
PP_KEY_FILE=/var/lib/kea-phoneprov/site.key

# The user kea-dhcp4 runs as: Debian's kea-dhcp4-server.service runs it as _kea,
# Fedora's as kea. With neither, root.
pp_kea_user() {
    for pp_u in _kea kea; do
        if getent passwd "$pp_u" >/dev/null 2>&1; then
            echo "$pp_u"
            return 0
        fi
    done
    echo root
}

# pp_join USER: adds USER (if it exists) to the group.
pp_join() {
    [ "$1" != root ] || return 0
    id "$1" >/dev/null 2>&1 || return 0
    if id -nG "$1" | tr ' ' '\n' | grep -qx "$PP_GROUP"; then
        return 0
    fi
    usermod -a -G "$PP_GROUP" "$1"
    echo "kea-phoneprov: added user $1 to group $PP_GROUP; restart its service (not a reload) to apply" >&2
}

# pp_configure: the group, its members, and the output folder. Kea writes the
# folder; nginx (www-data, Fedora: nginx) and tftpd-hpa (tftp) read it through
# the group; the world cannot. setgid: new files and folders get the group.
# The group is created when missing and never deleted (it may be the admin's).
pp_configure() {
    getent group "$PP_GROUP" >/dev/null 2>&1 || groupadd --system "$PP_GROUP"
    pp_kea=$(pp_kea_user)
    # Kea joins too: the hook sets the group of what it writes ("file-group").
    for pp_u in "$pp_kea" www-data nginx tftp; do
        pp_join "$pp_u"
    done
    [ -d "$PP_STATE_DIR" ] || install -d -m 0755 -o root -g root "$PP_STATE_DIR"
    # The site key naming each phone's per-device folder (hook parameter key-file):
    # made once, never replaced (an HA peer's copy put there first is kept), read by
    # Kea's user only.
    if [ ! -e "$PP_KEY_FILE" ]; then
        phoneprov keygen --out "$PP_KEY_FILE" >/dev/null
        chown "$pp_kea" "$PP_KEY_FILE"
        chmod 0600 "$PP_KEY_FILE"
    fi
    # An owner and mode set with dpkg-statoverride are the admin's choice.
    if command -v dpkg-statoverride >/dev/null 2>&1 &&
            dpkg-statoverride --list "$PP_OUTPUT_DIR" >/dev/null 2>&1; then
        return 0
    fi
    [ -d "$PP_OUTPUT_DIR" ] || mkdir "$PP_OUTPUT_DIR"
    chown "$pp_kea:$PP_GROUP" "$PP_OUTPUT_DIR"
    chmod 2750 "$PP_OUTPUT_DIR"
}

# pp_purge_output: removes what was rendered (everything beneath the output
# folder owned by the Kea user: the hook and phoneprov-pnp.service write as that
# user, nobody else does; and the hook's temp folder), then the folders left
# empty. Keeps whatever else is there: files an admin put there (firmware,
# ringtones), and files rendered by a Kea that ran as root.
pp_purge_output() {
    [ -d "$PP_OUTPUT_DIR" ] || return 0
    rm -rf "$PP_OUTPUT_DIR/.phoneprov-tmp"
    rm -f "$PP_KEY_FILE"
    pp_kea=$(pp_kea_user)
    if [ "$pp_kea" != root ]; then
        find "$PP_OUTPUT_DIR" -xdev -mindepth 1 ! -type d -user "$pp_kea" -delete
        find "$PP_OUTPUT_DIR" -xdev -mindepth 1 -depth -type d -user "$pp_kea" -empty -delete
    fi
    rmdir "$PP_OUTPUT_DIR" 2>/dev/null || true
    rmdir "$PP_STATE_DIR" 2>/dev/null || true
    if [ -d "$PP_OUTPUT_DIR" ]; then
        echo "kea-phoneprov: kept $PP_OUTPUT_DIR: it holds files Kea did not render" >&2
    fi
}
