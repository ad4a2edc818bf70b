"""venvdeb-archive-keyring: the repository's public keys as a package of the repository itself.

As Debian's own keyring packages do, it installs the keys that sign the repository's Release
files in /usr/share/keyrings/, where a host's sources entry names it (Signed-By). It is published
in every suite; when the key is rotated (`venvdeb repo rotate-key`), a new version carries the
old key and the new one, and the suites are signed by both, so that every host gets the new key
through apt before the repository is signed by the new key alone.

Pure functions give the package's control file and tree; ``build`` runs dpkg-deb on them. The
same keys and version give the same bytes: every time stamp is the keyring's version's own.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from debian.deb822 import Deb822

from ..errors import ToolError

PACKAGE = "venvdeb-archive-keyring"
INSTALLED = f"/usr/share/keyrings/{PACKAGE}.gpg"
# The files' and the archive's time: fixed, so that the same keys and version give the same bytes.
EPOCH = 1700000000


def control(version: str, maintainer: str, fingerprints: list[str]) -> str:
    fields = Deb822()
    fields["Package"] = PACKAGE
    fields["Version"] = version
    fields["Architecture"] = "all"
    fields["Maintainer"] = maintainer
    fields["Multi-Arch"] = "foreign"
    fields["Section"] = "misc"
    fields["Priority"] = "optional"
    fields["Description"] = ("OpenPGP keys of the venvdeb repository\n"
                             f" The keys its Release files are signed with, for apt's Signed-By: {INSTALLED}.\n"
                             " Fingerprints:\n" + "\n".join(f"  {f}" for f in fingerprints))
    return fields.dump()


def copyright_text(maintainer: str) -> str:
    return ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
            f"Files: *\nCopyright: {maintainer}\nLicense: public-domain\n"
            " Public keys, published so that anyone may check the repository's signatures.\n")


def tree(root: Path, keyring: bytes, version: str, maintainer: str, fingerprints: list[str]) -> Path:
    """The package's files under ``root``, as dpkg-deb --build takes them."""
    files = {"DEBIAN/control": control(version, maintainer, fingerprints).encode(),
             INSTALLED.lstrip("/"): keyring,
             f"usr/share/doc/{PACKAGE}/copyright": copyright_text(maintainer).encode()}
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_bytes(data)
        path.chmod(0o644)
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, (EPOCH, EPOCH), follow_symlinks=False)
    os.utime(root, (EPOCH, EPOCH))
    return root


def build(keyring: bytes, version: str, maintainer: str, fingerprints: list[str], out_dir: Path) -> Path:
    """The keyring package, built in a temporary place and moved into ``out_dir`` when whole."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dest = out_dir / f"{PACKAGE}_{version}_all.deb"
    with tempfile.TemporaryDirectory(prefix=".keyring-", dir=out_dir) as work:
        root = tree(Path(work) / "root", keyring, version, maintainer, fingerprints)
        made = Path(work) / dest.name
        proc = subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(made)],
                              capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)})
        if proc.returncode != 0:
            raise ToolError(f"dpkg-deb --build {PACKAGE} {version} failed: {proc.stderr[-800:]}")
        os.replace(made, dest)
    return dest
