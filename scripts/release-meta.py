#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Release metadata for scripts/release.sh, written to stdout as JSON.

  release-meta.py sbom --version V --commit SHA --dist DIR --root STAGED-INSTALL
      SPDX 2.3: the usbipcore package (with the source tarball's sha256) and every shared
      library its binaries and plugins link (the ldd closure), each named by the Debian package
      that ships it (dpkg -S) with that package's installed version, as DYNAMIC_LINK relations.
  release-meta.py provenance --version V --commit SHA --dist DIR --repo URL --builder ID --started T
      in-toto Statement v1 with a SLSA provenance v1 predicate: subjects are the release files
      in DIR (sha256), the source commit and the build tools' Debian packages are the
      resolved dependencies."""
import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid

TOOLCHAIN = ["gcc", "libc6-dev", "meson", "ninja-build", "pkgconf", "scdoc", "libglib2.0-dev", "libgudev-1.0-dev",
             "libjson-glib-dev", "libsystemd-dev", "dpkg-dev", "debhelper", "xz-utils", "gzip", "tar"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sde_time():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deb_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def deb_version(pkg):
    """(name, arch, version) of an installed package ("name" or "name:arch")."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Architecture}\t${Version}\n", pkg],
                         capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.strip():
        return None
    return tuple(out.stdout.splitlines()[0].split("\t"))


def purl(name, version, arch):
    return f"pkg:deb/debian/{name}@{version}?arch={arch}"


def owner_of(path):
    """Debian package ("name:arch") shipping PATH; tries the merged-/usr twin too."""
    real = os.path.realpath(path)
    candidates = []
    for p in (path, real):
        candidates += [p, p[4:] if p.startswith("/usr/") else "/usr" + p]
    for c in candidates:
        out = subprocess.run(["dpkg", "-S", c], capture_output=True, text=True)
        if out.returncode == 0:
            return out.stdout.split(":")[0] if out.stdout.count(":") == 1 else ":".join(out.stdout.split(":")[:2])
    return None


def elf_files(root):
    for d, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(d, f)
            if not os.path.islink(p) and os.path.isfile(p):
                with open(p, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        yield p


def linked_libraries(root):
    """{resolved path: [our files linking it]} for every library outside the release itself."""
    ours = [os.path.dirname(p) for p in elf_files(root)]
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(sorted(set(ours))))
    libs = {}
    for f in elf_files(root):
        out = subprocess.run(["ldd", f], capture_output=True, text=True, env=env)
        for line in out.stdout.splitlines():
            m = re.match(r"\s*(\S+) => (/\S+) \(", line) or re.match(r"\s*(/\S+) \(", line)
            if not m:
                if "not found" in line:
                    sys.exit(f"release-meta: {f}: {line.strip()}: install the library or fix the build")
                continue
            path = m.group(m.lastindex)
            if path.startswith(root):
                continue
            libs.setdefault(path, []).append(os.path.relpath(f, root))
    return libs


def sbom(a):
    arch = deb_arch()
    source = os.path.join(a.dist, f"usbipcore-{a.version}.tar.xz")
    main_id = "SPDXRef-Package-usbipcore"
    packages = [{
        "SPDXID": main_id, "name": "usbipcore", "versionInfo": a.version,
        "supplier": "Organization: usbipcore", "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False, "licenseConcluded": "GPL-2.0-or-later", "licenseDeclared": "GPL-2.0-or-later",
        "copyrightText": "NOASSERTION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": sha256(source)}],
        "sourceInfo": f"git commit {a.commit}",
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                          "referenceLocator": f"pkg:generic/usbipcore@{a.version}"}],
    }]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": main_id}]
    by_package = {}
    for path, users in sorted(linked_libraries(a.root).items()):
        owner = owner_of(path)
        if owner is None:
            sys.exit(f"release-meta: no Debian package ships {path} (dpkg -S): build with Debian's libraries")
        by_package.setdefault(owner, []).append((path, users))
    for owner, files in sorted(by_package.items()):
        name, parch, version = deb_version(owner)
        spdx_id = "SPDXRef-Package-deb-" + re.sub(r"[^A-Za-z0-9.-]", "-", f"{name}-{parch}")
        packages.append({
            "SPDXID": spdx_id, "name": name, "versionInfo": version,
            "supplier": "Organization: Debian", "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False, "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": purl(name, version, parch)}],
            "comment": "; ".join(f"{p} (linked by {', '.join(sorted(set(u)))})" for p, u in files),
        })
        relationships.append({"spdxElementId": main_id, "relationshipType": "DYNAMIC_LINK",
                              "relatedSpdxElement": spdx_id})
    doc = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"usbipcore-{a.version}-linux-{arch}",
        "documentNamespace": "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"usbipcore/{a.version}/{a.commit}/{arch}")),
        "creationInfo": {"created": sde_time(), "creators": ["Tool: usbipcore scripts/release-meta.py"]},
        "packages": packages, "relationships": relationships,
    }
    return doc


def repo_uri(repo):
    """The origin as a URI: a local path becomes file://, git's scp-like host:path ssh://."""
    if repo.startswith("/"):
        return "file://" + repo
    m = re.fullmatch(r"([^/:]+):(?!//)(.*)", repo)
    if m:
        return f"ssh://{m.group(1)}/{m.group(2).lstrip('/')}"
    return repo


def provenance(a):
    repo = repo_uri(a.repo)
    arch = deb_arch()
    skip = (f"usbipcore_{a.version}_checksums.txt", f"usbipcore_{a.version}_provenance.intoto.json")
    subjects = [{"name": f, "digest": {"sha256": sha256(os.path.join(a.dist, f))}}
                for f in sorted(os.listdir(a.dist))
                if os.path.isfile(os.path.join(a.dist, f)) and not f.startswith(skip) and not f.endswith(".minisig")]
    deps = [{"uri": f"git+{repo}@{a.commit}", "digest": {"gitCommit": a.commit}}]
    for pkg in TOOLCHAIN:
        v = deb_version(pkg)
        if v:
            deps.append({"uri": purl(*[v[0], v[2], v[1]]), "name": v[0]})
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "urn:usbipcore:scripts/release.sh:v1",
                "externalParameters": {"version": a.version,
                                       "source": {"uri": f"git+{repo}", "digest": {"gitCommit": a.commit}}},
                "internalParameters": {"SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH"),
                                       "architecture": arch},
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": a.builder},
                "metadata": {"invocationId": str(uuid.uuid4()), "startedOn": a.started,
                             "finishedOn": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
            },
        },
    }


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    for name in ("sbom", "provenance"):
        s = sub.add_parser(name)
        s.add_argument("--version", required=True)
        s.add_argument("--commit", required=True)
        s.add_argument("--dist", required=True)
    sub.choices["sbom"].add_argument("--root", required=True)
    for opt in ("--repo", "--builder", "--started"):
        sub.choices["provenance"].add_argument(opt, required=True)
    a = p.parse_args()
    json.dump(sbom(a) if a.what == "sbom" else provenance(a), sys.stdout, indent=2, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
