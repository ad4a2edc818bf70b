"""Rotating the repository's signing key, for real: reprepro signing with two keys, the keyring
package carrying them, and apt in a clean chroot that trusts only the old key at first."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from debian.debfile import DebFile

from venvdeb.deb import sources_entry
from venvdeb.environment import images
from venvdeb.repository import KEYRING, serving
from venvdeb.repository.keyring import INSTALLED, PACKAGE
from venvdeb.repository.signing import expiry, fingerprints, gpg

from .test_repository import STAGING, apt_update_in_chroot, repo, stage, tiny_deb  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.integration]


def rotate(repo, *args: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(repo.base.parent / "packaging"),
                           "repo", "rotate-key", *args, "--json", "--repo-dir", str(repo.base),
                           "--gnupghome", str(repo.key.gnupghome)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def signatures(repo, suite: str = STAGING) -> int:
    proc = subprocess.run(["gpg", "--batch", "--homedir", str(repo.key.gnupghome), "--verify",
                           str(repo.base / "dists" / suite / "InRelease")], capture_output=True, text=True)
    return proc.stderr.count("Good signature")


def test_a_host_that_trusts_the_old_key_upgrades_its_keyring_then_takes_what_the_new_key_alone_signs(
        repo, tmp_path, cache_dir):
    old = repo.key.fingerprint
    old_keyring = (repo.base / KEYRING).read_bytes()
    # A key venvdeb makes expires, two years on.
    assert expiry(repo.key.gnupghome, old).year - __import__("datetime").date.today().year == 2
    # Every suite has the keyring package from the start, with the key that signs it.
    assert {suite: packages[PACKAGE][0] for suite, packages in repo.suites().items()} == {
        STAGING: "1", "bookworm-r1": "1"}
    stage(repo, tiny_deb(tmp_path, "pkg-a"))

    with serving(repo.base) as url, images.smoke("bookworm", cache_dir).fresh() as host:
        def apt(*args: str) -> subprocess.CompletedProcess:
            proc = host.run(["apt-get", *args, "-o", "APT::Update::Error-Mode=any"] if args[0] == "update"
                            else ["apt-get", "install", "-y", *args[1:]])
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return proc

        # The operator's first step: the served keyring where the package puts it, checked by its
        # fingerprint, then the package itself, which owns it from then on.
        host.write(INSTALLED, old_keyring)
        host.write("/etc/apt/sources.list", "")
        host.write("/etc/apt/sources.list.d/debian.sources", "")
        host.write("/etc/apt/sources.list.d/venvdeb.sources", sources_entry(url, STAGING, INSTALLED))
        apt("update")
        apt("install", PACKAGE, "pkg-a")

        # The transition: a new key signs every suite beside the old one, and the keyring package
        # carries both. The host, which trusts the old key alone, still updates, and upgrades.
        started = rotate(repo, "--make-key")
        new = started["signing_keys"][-1]
        assert started["signing_keys"] == [old, new] and started["keyring_version"] == "2"
        assert signatures(repo) == 2 and set(fingerprints(repo.key.gnupghome)) == {old, new}
        apt("update")
        apt("install", PACKAGE)
        assert host.path(INSTALLED).read_bytes() == gpg(repo.key.gnupghome, "--export", old, new)

        # The end of it: the new key alone signs, and the host takes a package published since.
        finished = rotate(repo, "--finish")
        assert finished["signing_keys"] == [new] and finished["keyring_version"] == "3"
        assert signatures(repo) == 1
        stage(repo, tiny_deb(tmp_path, "pkg-b"))
        apt("update")
        apt("install", "pkg-b")
        assert host.run(["dpkg-query", "-W", "-f", "${Version}", PACKAGE]).stdout == "2"

    # A host that never upgraded its keyring trusts no key that signs the repository now.
    refused = apt_update_in_chroot(repo, cache_dir, keyring=old_keyring)
    assert refused.returncode != 0 and "NO_PUBKEY" in refused.stdout + refused.stderr
    # The keyring package of each set of keys is the same bytes however often it is made.
    pool = repo.suites()[STAGING][PACKAGE][1]
    assert DebFile(str(pool)).data.get_content(f".{INSTALLED}") == gpg(repo.key.gnupghome, "--export", new)


def test_finishing_a_rotation_that_was_never_started_is_refused(repo):
    proc = subprocess.run([sys.executable, "-m", "venvdeb", "repo", "rotate-key", "--finish", "--repo-dir",
                           str(repo.base), "--gnupghome", str(repo.key.gnupghome)], capture_output=True, text=True)
    assert proc.returncode != 0 and "no rotation to finish" in proc.stderr
