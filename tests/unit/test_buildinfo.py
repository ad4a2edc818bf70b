"""A package's .buildinfo is dpkg's record of the build of that very file, or it is refused."""

from __future__ import annotations

import pytest

from venvdeb.deb import check_buildinfo, deb_name
from venvdeb.errors import Rejected

SHA = "ab" * 32


def buildinfo(tmp_path, listed: str):
    path = tmp_path / "x.buildinfo"
    path.write_text(f"Format: 1.0\nSource: venv-a\nBinary: venv-a\nArchitecture: amd64\nVersion: 1:2.0-1\n"
                    f"Checksums-Sha256:\n{listed}")
    return path


def test_the_buildinfo_must_record_the_file_by_its_debian_name_and_sha256(tmp_path):
    name = deb_name({"Package": "venv-a", "Version": "1:2.0-1", "Architecture": "amd64"})
    assert name == "venv-a_2.0-1_amd64.deb"  # the epoch is not part of a file name
    check_buildinfo(buildinfo(tmp_path, f" {SHA} 1234 {name}\n"), name, SHA)
    with pytest.raises(Rejected) as exc:
        check_buildinfo(buildinfo(tmp_path, f" {'cd' * 32} 1234 {name}\n"), name, SHA)
    assert f"does not record {name} with sha256 {SHA} (it names {name} {'cd' * 32})" in exc.value.message
    with pytest.raises(Rejected) as exc:
        check_buildinfo(buildinfo(tmp_path, f" {SHA} 1234 venv-b_2.0-1_amd64.deb\n"), name, SHA)
    assert "it names venv-b_2.0-1_amd64.deb" in exc.value.message
    with pytest.raises(Rejected):
        check_buildinfo(tmp_path / "absent.buildinfo", name, SHA)
