#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Makes a release of the committed tree (HEAD) in dist/:
#   usbipcore-VERSION.tar.xz                    source (meson dist, normalised: sorted, owner 0,
#                                               mtime = SOURCE_DATE_EPOCH)
#   usbipcore_VERSION_linux_ARCH.tar.gz         binaries, plugins, units, man pages, config
#                                               (built from that source tarball, prefix /usr)
#   *.deb                                       scripts/deb-build.sh (lintian-clean)
#   usbipcore_VERSION_sbom.spdx.json            SPDX 2.3: the project and every library it links
#   usbipcore_VERSION_provenance.intoto.json    in-toto Statement, SLSA provenance v1
#   usbipcore_VERSION_checksums.txt             sha256 of all of the above
#   usbipcore_VERSION_checksums.txt.minisig     minisign signature of the checksums
# docs/release.md tells users how to verify them.
#   scripts/release.sh VERSION                  env: MINISIGN_KEY=secret key file (required),
#                                               DIST=output dir, NO_DEB=1 (skip the .debs),
#                                               BUILDER_ID=who builds (URI; CI sets its run URL)
# SOURCE_DATE_EPOCH is the commit's time: binaries, tarballs and .debs are reproducible.
set -eu
[ $# -eq 1 ] || { echo "usage: scripts/release.sh VERSION (e.g. 0.1.0)" >&2; exit 2; }
version=$1
src=$(cd "$(dirname "$0")/.." && pwd)
dist=${DIST:-$src/dist}
key=${MINISIGN_KEY:-}
[ -n "$key" ] && [ -r "$key" ] || {
  echo "release: set MINISIGN_KEY to the minisign secret key file (a test key: minisign -G -W -p k.pub -s k.key)" >&2
  exit 2
}
project_version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$src/meson.build")
[ "$version" = "$project_version" ] || {
  echo "release: VERSION $version is not meson.build's version $project_version: set version: '$version' in meson.build, commit, and run again" >&2
  exit 2
}
grep -q "^usbipcore $version " "$src/NEWS" 2>/dev/null || {
  echo "release: NEWS has no section for $version: run scripts/news.sh $version, edit, commit, and run again" >&2
  exit 2
}
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
  echo "release: note: uncommitted changes are not released (releasing $(git -C "$src" rev-parse --short HEAD))" >&2
fi
commit=$(git -C "$src" rev-parse HEAD)
SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct HEAD)
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC
umask 022
arch=$(dpkg --print-architecture)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
work=$(mktemp -d "${TMPDIR:-/tmp}/usbipcore-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
rm -f "$dist"/usbipcore-"$version".tar.xz "$dist"/usbipcore_"$version"_* "$dist"/*.deb

# deterministic tar: sorted names, fixed owner and time
dtar() { # dtar OUT.tar DIR MEMBER...
  out=$1 dir=$2
  shift 2
  tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$dir" -cf "$out" "$@"
}

echo "release: source tarball (meson dist)"
meson setup "$work/dist-build" "$src" -Dtests=false -Dman=disabled >"$work/dist.log" 2>&1 ||
  { cat "$work/dist.log"; exit 1; }
meson dist -C "$work/dist-build" --formats xztar --no-tests --allow-dirty >>"$work/dist.log" 2>&1 ||
  { cat "$work/dist.log"; exit 1; }
mkdir "$work/src"
# the modes as umask 022 makes them, for any user: root's tar would keep the archive's
# (git archive's 0664/0775), anyone else's applies the umask (reproducible.sh saw the two differ)
tar -xJf "$work/dist-build/meson-dist/usbipcore-$version.tar.xz" -C "$work/src" --no-same-permissions
dtar "$work/usbipcore-$version.tar" "$work/src" "usbipcore-$version"
xz -6 -T1 -c "$work/usbipcore-$version.tar" >"$dist/usbipcore-$version.tar.xz"

echo "release: binary tarball for linux/$arch"
# built from the source tarball in a fixed-depth tree; paths mapped out of the binaries
tree=$work/src/usbipcore-$version
CFLAGS="-ffile-prefix-map=$work/src=/usr/src ${CFLAGS:-}" \
  nice -n 15 meson setup "$tree/_build" "$tree" --prefix=/usr --sysconfdir=/etc --buildtype=release \
  -Dtests=false -Dman=enabled >"$work/bin.log" 2>&1 || { cat "$work/bin.log"; exit 1; }
nice -n 15 meson compile -C "$tree/_build" >>"$work/bin.log" 2>&1 || { tail -30 "$work/bin.log"; exit 1; }
meson install -C "$tree/_build" --destdir "$work/stage/usbipcore_${version}_linux_$arch" >>"$work/bin.log" 2>&1 ||
  { tail -30 "$work/bin.log"; exit 1; }
bintar=usbipcore_${version}_linux_$arch.tar.gz
dtar "$work/bin.tar" "$work/stage" "usbipcore_${version}_linux_$arch"
gzip -9 -n -c "$work/bin.tar" >"$dist/$bintar"

if [ "${NO_DEB:-}" != 1 ]; then
  echo "release: Debian packages"
  DEB_VERSION="$version-1" "$src/scripts/deb-build.sh" "$work/deb" >"$work/deb.log" 2>&1 ||
    { tail -30 "$work/deb.log"; exit 1; }
  cp "$work"/deb/*.deb "$dist/"
fi

echo "release: SBOM and provenance"
python3 "$src/scripts/release-meta.py" sbom --version "$version" --commit "$commit" --dist "$dist" \
  --root "$work/stage/usbipcore_${version}_linux_$arch" >"$dist/usbipcore_${version}_sbom.spdx.json"
python3 "$src/scripts/release-meta.py" provenance --version "$version" --commit "$commit" --dist "$dist" \
  --repo "$(git -C "$src" remote get-url origin 2>/dev/null || echo "file://$src")" \
  --builder "${BUILDER_ID:-local:$(hostname)}" --started "$started" \
  >"$dist/usbipcore_${version}_provenance.intoto.json"

echo "release: checksums and signature"
(cd "$dist" && sha256sum "usbipcore-$version.tar.xz" "$bintar" $(ls ./*.deb 2>/dev/null | sed 's,^\./,,') \
  "usbipcore_${version}_sbom.spdx.json" "usbipcore_${version}_provenance.intoto.json") \
  >"$dist/usbipcore_${version}_checksums.txt"
minisign -S -s "$key" -m "$dist/usbipcore_${version}_checksums.txt" \
  -t "usbipcore $version checksums (commit $commit)" </dev/null
ls -l "$dist"
