#!/usr/bin/env bash
# `cmake --install build --prefix P` gives a hook that Kea loads from P with no
# profiles path in its config (the defaults point at the installed data), and a
# phoneprov that finds the same data.
source "$(dirname "$0")/lib.sh"
pp_setup
PREFIX="$WORK/prefix"
cmake --install "$BUILD_DIR" --prefix "$PREFIX" > "$WORK/install.log"
SO=$(find "$PREFIX/lib" -path '*/kea/hooks/libdhcp_phoneprov.so' | head -1)
[ -n "$SO" ] || pp_fail "no hook under $PREFIX/lib/.../kea/hooks"
[ -f "$PREFIX/share/kea-phoneprov/profiles/yealink/profile.json" ] || pp_fail "no profiles under share"
[ -x "$PREFIX/bin/phoneprov" ] || pp_fail "no phoneprov under bin"
HTTP=$(pp_free_port 18180); pp_start_nginx "$HTTP"
python3 "$SOURCE_DIR/scripts/adapt_kea_config.py" "$SOURCE_DIR/kea-config/quickstart.json" \
    "$WORK/kea.json" --work "$WORK" --out "$OUT" --hook "$SO" --http-port "$HTTP"
! grep -q profiles-dir "$WORK/kea.json" || pp_fail "the config names a profiles folder"
DHCP=$(pp_free_port 12167)
pp_start_kea "$WORK/kea.json" "$DHCP"
grep -q PHONEPROV_LOAD_OK "$WORK/kea.log" || pp_fail "hook did not load"
PHONEPROV="$PREFIX/bin/phoneprov" pp_simulate --mac 00:15:65:aa:bb:cc --vendor-class yealink \
    --file '{mac}.cfg' --output "$WORK/got.cfg" > /dev/null || pp_fail "simulate"
grep -qxF "account.1.user_name = 1001" "$WORK/got.cfg" || pp_fail "rendered file"
out=$("$PREFIX/bin/phoneprov" identify --mac 00:0b:82:27:3b:89 \
      --vendor-class "Grandstream GXP1628 dslforum.org" --json)
[ "$(jq -r .vendor <<< "$out")/$(jq -r .model <<< "$out")" = grandstream/GXP1628 ] || pp_fail "identify: $out"
echo "PASS: installed under $PREFIX"
