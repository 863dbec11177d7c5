#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Release gate (not in `meson test`: it builds the source, binary and Debian packages, a few
# minutes): runs scripts/release.sh with a throwaway minisign key into a scratch dist/, checks
# the SBOM and provenance, then runs docs/release.md's verification block as written (with the
# throwaway public key in place of the placeholder) and checks that a tampered file fails it.
#   scripts/test-release.sh             env: NO_DEB=1 to skip the .debs
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/usbipcore-test-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$src/meson.build")
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  name=$1
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "not ok - $name"; printf '%s\n' "$out" | sed 's/^/#   /'
  fi
}

minisign -G -W -p "$work/test.pub" -s "$work/test.key" >/dev/null
# the commit release.sh releases: a commit made while this runs does not change what is checked
commit=$(git -C "$src" rev-parse HEAD)
DIST=$work/dist MINISIGN_KEY=$work/test.key "$src/scripts/release.sh" "$version" >"$work/release.log" 2>&1 ||
  { cat "$work/release.log"; exit 1; }
d=$work/dist
arch=$(dpkg --print-architecture)
check "source tarball" test -s "$d/usbipcore-$version.tar.xz"
check "binary tarball has binaries, plugins, units, man pages, config" sh -c "tar -tzf '$d/usbipcore_${version}_linux_$arch.tar.gz' >'$work/list' &&
  for f in usr/bin/usbip-tool usr/sbin/usbipcored usbipcore-1/plugins/libusbip-plugin-host.so usr/lib/systemd/system/usbipcored.socket \
    usr/share/man/man8/usbipcored.8 etc/usbipcore/usbipcore.conf; do grep -q \"\$f\$\" '$work/list' || { echo \"missing \$f\"; exit 1; }; done"
if [ "${NO_DEB:-}" != 1 ]; then
  check "the five .debs" sh -c "ls '$d'/usbipcore_*.deb '$d'/libusbipcore1_*.deb '$d'/libusbipcore-dev_*.deb \
    '$d'/gir1.2-usbip-1.0_*.deb '$d'/usbipcore-gtk_*.deb"
fi
check "SBOM is SPDX 2.3 and lists glib and libc with Debian versions" sh -c "jq -e '(.packages | length) as \$n | .spdxVersion == \"SPDX-2.3\" and
  ([.packages[] | select(.name == \"libglib2.0-0\" and (.versionInfo | length > 0))] | length == 1) and
  ([.packages[] | select(.name == \"libc6\")] | length == 1) and
  ([.relationships[] | select(.relationshipType == \"DYNAMIC_LINK\")] | length == \$n - 1)' '$d/usbipcore_${version}_sbom.spdx.json'"
check "provenance is an in-toto SLSA v1 statement for this commit" sh -c "jq -e --arg c '$commit' '._type == \"https://in-toto.io/Statement/v1\" and
  .predicateType == \"https://slsa.dev/provenance/v1\" and .predicate.buildDefinition.externalParameters.source.digest.gitCommit == \$c and
  (.predicate.runDetails.builder.id | length > 0) and (.subject | length >= 3)' '$d/usbipcore_${version}_provenance.intoto.json'"

check "provenance names a local or scp-style origin as a URI (git+file://, git+ssh://)" sh -c "
  for r in '/srv/git/usbipcore|git+file:///srv/git/usbipcore' 'git@example.org:o/usbipcore.git|git+ssh://git@example.org/o/usbipcore.git' \\
    'https://example.org/o/usbipcore.git|git+https://example.org/o/usbipcore.git'; do
    python3 '$src/scripts/release-meta.py' provenance --version '$version' --commit 0 --dist '$d' --repo \"\${r%%|*}\" \\
      --builder b --started s | jq -e --arg u \"\${r#*|}\" '.predicate.buildDefinition.externalParameters.source.uri == \$u' ||
      { echo \"--repo \${r%%|*} did not give \${r#*|}\"; exit 1; }
  done"

# docs/release.md's block, with the throwaway key instead of the placeholder
sed -n '/<!-- verify:begin -->/,/<!-- verify:end -->/p' "$src/docs/release.md" | sed '/^```/d;/^<!--/d' |
  sed "s|^VERSION=.*|VERSION=$version|; s|^PUBKEY=.*|PUBKEY='$(tail -1 "$work/test.pub")'|" >"$work/verify.sh"
check "docs/release.md's verification passes" sh -c "cd '$d' && sh -e '$work/verify.sh'"
check "... and prints the source commit" sh -c "cd '$d' && sh -e '$work/verify.sh' | grep -qx '$commit'"
printf 'tampered' >>"$d/usbipcore-$version.tar.xz"
check "... and fails on a tampered file" sh -c "cd '$d' && ! sh -e '$work/verify.sh'"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
