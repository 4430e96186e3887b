#!/usr/bin/env bash
# Builds icudt77l.dat, the ICU 77 data the i18n V8 of Javet 5.0.6 needs, from ICU4J 77.1 (Maven
# Central), with icupkg from Debian's icu-devtools (72.1). The output is deterministic; it is
# committed gzip-compressed as ../main/resources/dev/bulwark/sandbox/icu/icudt77l.dat.gz, so
# neither the build nor a fresh machine needs this script: run it only to change the data.
#
#   usage: build-icudata.sh [jaml.res]
#
# ICU4J carries ICU4C's data items big-endian. Each is swapped to little-endian with icupkg and
# the lot packaged under the name icudt77l. Left out: the items ICU4C compiles into its library
# (uprops.icu ucase.icu ubidi.icu nfc.nrm pnames.icu) and those V8 never reads (unames.icu,
# *.spp). icupkg 72 refuses .nrm items of format version 5, which swap exactly like version 4:
# byte 16 (formatVersion[0]) is set to 4 for the swap and back to 5 after.
# Japanese word segmentation in V8's ICU also needs brkitr/jaml.res (ML phrase breaking, 12,832
# bytes), which ICU4J does not carry; pass it as the argument. The committed data has it, taken
# from Debian bookworm's chromium-common 150.0.7871.100-1~deb12u1 (ICU 78 data; the item works
# with 77), sha256 c062bc4eee72290dada165e2581acdfec260e04e548781455c0fb1447bb77685:
#   apt-get download chromium-common && dpkg-deb -x chromium-common_*.deb x
#   cp x/usr/lib/chromium/icudtl.dat icudt78l.dat   # icupkg takes the package name from the file name
#   icupkg --ignore-deps -x brkitr/jaml.res -d out icudt78l.dat   # -> out/brkitr/jaml.res
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out="$root/bulwark-sandbox/src/main/resources/dev/bulwark/sandbox/icu"
jaml=${1:-}
command -v icupkg >/dev/null || { echo "icupkg not found: apt-get install icu-devtools" >&2; exit 1; }

jar="$HOME/.m2/repository/com/ibm/icu/icu4j/77.1/icu4j-77.1.jar"
if [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -B -q dependency:get -Dartifact=com.ibm.icu:icu4j:77.1 -Dtransitive=false)
fi
(cd "$(dirname "$jar")" && [ "$(sha1sum icu4j-77.1.jar | cut -d' ' -f1)" = "$(cat icu4j-77.1.jar.sha1 | cut -c1-40)" ])

# icupkg 72 holds item names in a fixed 100,000-byte buffer: work in a short directory.
w=$(mktemp -d /tmp/icuXXXX)
trap 'rm -rf "$w"' EXIT
(cd "$w" && unzip -q "$jar" 'com/ibm/icu/impl/data/icudata/*' && mv com/ibm/icu/impl/data/icudata b && rm -rf com)
mkdir -p "$w/l"
cd "$w/b"
find . -type f | sed 's|^\./||' | LC_ALL=C sort > "$w/all"
grep -v -x -E 'uprops\.icu|ucase\.icu|ubidi\.icu|nfc\.nrm|pnames\.icu|unames\.icu|.*\.spp' "$w/all" > "$w/items.lst"
while read -r item; do
  mkdir -p "$w/l/$(dirname "$item")"
  if [[ $item == *.nrm ]]; then
    cp "$item" "$w/v4"
    printf '\x04' | dd of="$w/v4" bs=1 seek=16 conv=notrunc status=none
    icupkg -tl "$w/v4" "$w/l/$item"
    printf '\x05' | dd of="$w/l/$item" bs=1 seek=16 conv=notrunc status=none
  else
    icupkg -tl "$item" "$w/l/$item"
  fi
done < "$w/items.lst"
if [ -n "$jaml" ]; then
  echo "jaml.res sha256 $(sha256sum "$jaml" | cut -d' ' -f1)"
  mkdir -p "$w/l/brkitr"
  cp "$jaml" "$w/l/brkitr/jaml.res"
  echo brkitr/jaml.res >> "$w/items.lst"
  LC_ALL=C sort -o "$w/items.lst" "$w/items.lst"
fi
cd "$w"
icupkg -tl -s "$w/l" -a "$w/items.lst" new icudt77l.dat
mkdir -p "$out"
gzip -9 -n -c icudt77l.dat > "$out/icudt77l.dat.gz"
echo "$(sha256sum icudt77l.dat | cut -d" " -f1) $(stat -c %s icudt77l.dat)" > "$out/icudt77l.dat.digest"
ls -l icudt77l.dat "$out/icudt77l.dat.gz"
