"""venvdeb-archive-keyring, the package of the repository's public keys: what it holds, and the
same bytes for the same keys. Its publication and use by apt: test_key_rotation.py."""

from __future__ import annotations

from debian.debfile import DebFile

from venvdeb.repository import keyring


def test_the_keyring_package_installs_the_keys_for_signed_by_and_names_them(tmp_path):
    deb = keyring.build(b"keys", "2", "venvdeb repository <repo@example.org>", ["AAAA", "BBBB"], tmp_path / "one")
    package = DebFile(str(deb))
    control = package.debcontrol()
    assert (control["Package"], control["Version"], control["Architecture"]) == (keyring.PACKAGE, "2", "all")
    assert "AAAA" in control["Description"] and "BBBB" in control["Description"]
    assert package.data.get_content(f".{keyring.INSTALLED}") == b"keys"
    member = package.data.tgz().getmember(f".{keyring.INSTALLED}")
    assert (member.mode, member.uname, member.gname) == (0o644, "root", "root")
    assert deb.name == f"{keyring.PACKAGE}_2_all.deb" and [p.name for p in deb.parent.iterdir()] == [deb.name]


def test_the_same_keys_give_the_same_bytes(tmp_path):
    made = [keyring.build(b"keys", "1", "m <m@example.org>", ["AAAA"], tmp_path / d).read_bytes() for d in "ab"]
    assert made[0] == made[1]
