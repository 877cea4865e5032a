#!/usr/bin/env bash
# Golden files: every file `phoneprov render` writes for the reservations of
# tests/data/golden/kea.json (device-tokens off: the files' content is compared here, their
# token folders in test_credential_attack; one phone per vendor checked against its guide, several
# accounts each, time zone Europe/Berlin from the system tzdata) must equal, byte for
# byte, the file of the same path under tests/data/golden/<vendor>/; no file may be
# missing or extra. docs/profiles.md names the guide and section behind each key.
#   test_golden.sh PHONEPROV [--update]   (--update rewrites the golden files)
set -euo pipefail
PHONEPROV=$1
HERE=$(cd "$(dirname "$0")/.." && pwd)
GOLDEN="$HERE/data/golden"
PROFILES="$HERE/../profiles"
WORK=$(mktemp -d /tmp/phoneprov-golden.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out"
"$PHONEPROV" render --config "$GOLDEN/kea.json" --profiles-dir "$PROFILES" --output "$WORK/out" \
    --quiet 2> "$WORK/render.log" || { cat "$WORK/render.log"; echo "FAIL: phoneprov render"; exit 1; }
if grep -q '^error' "$WORK/render.log"; then
    cat "$WORK/render.log"; echo "FAIL: render errors"; exit 1
fi
(cd "$WORK/out" && find . -type f ! -path './.phoneprov-tmp/*' | sed 's|^\./||' | sort) > "$WORK/got.list"
if [ "${2:-}" = "--update" ]; then
    find "$GOLDEN" -mindepth 1 -type d -exec rm -rf {} +
    while read -r f; do
        mkdir -p "$GOLDEN/$(dirname "$f")"
        cp "$WORK/out/$f" "$GOLDEN/$f"
    done < "$WORK/got.list"
    echo "updated $(wc -l < "$WORK/got.list") golden files"
    exit 0
fi
(cd "$GOLDEN" && find . -mindepth 2 -type f | sed 's|^\./||' | sort) > "$WORK/want.list"
diff -u "$WORK/want.list" "$WORK/got.list" || { echo "FAIL: rendered files differ from the golden list"; exit 1; }
bad=0
while read -r f; do
    if ! cmp -s "$GOLDEN/$f" "$WORK/out/$f"; then
        diff -u "$GOLDEN/$f" "$WORK/out/$f" || true
        bad=1
    fi
done < "$WORK/got.list"
[ "$bad" = 0 ] || { echo "FAIL: rendered files differ from the golden files"; exit 1; }
echo "PASS: $(wc -l < "$WORK/got.list") rendered files equal their golden files"
