"""What publish and promote require (repository/gates.py), and the wheelhouse verifier's own
checks (wheelhouse/verify.py) with the index at its boundary."""

from __future__ import annotations

import json

import pytest

from venvdeb.errors import Rejected
from venvdeb.http import NotFound
from venvdeb.model.manifest import Manifest, WheelItem
from venvdeb.repository import gates
from venvdeb.wheelhouse import verify

SHA = "ab" * 32


def test_a_package_passes_its_kinds_gates():
    assert gates.of("venv-nova", {"openstack-wheelhouse-2025.2"}) == ("lint", "smoke")
    assert gates.of("openstack-wheelhouse-2025.2", {"openstack-wheelhouse-2025.2"}) == ("lint", "verify")


def test_each_gate_must_have_passed_for_exactly_these_bytes():
    record = {"sha256": SHA, "lint": {"passed": True}, "smoke": {"passed": False}}
    assert gates.not_passed(record, SHA, ("lint", "smoke")) == ["smoke: failed"]
    assert gates.not_passed(record, SHA, ("lint", "verify")) == ["verify: not run"]
    assert gates.not_passed(record, "cd" * 32, ("lint",)) == ["lint: recorded for another file (abababababab...)"]
    assert gates.not_passed({}, SHA, ("lint", "smoke")) == ["lint: not run", "smoke: not run"]
    # "passed" must be true itself, not merely present (a result that says "yes" is no pass).
    assert gates.not_passed({"sha256": SHA, "lint": {"passed": "yes"}}, SHA, ("lint",)) == ["lint: failed"]
    assert gates.not_passed({"sha256": SHA, "lint": {"passed": True}}, SHA, ("lint",)) == []


def test_a_refusal_names_the_gates_and_the_commands_that_run_them():
    with pytest.raises(Rejected) as exc:
        gates.require({}, SHA, ("lint", "verify"), "w", "3", "/o/w_3.deb", "published to s")
    assert exc.value.message == "w 3 cannot be published to s: lint: not run; verify: not run"
    assert exc.value.hint == ("run the gates for this file: venvdeb lint /o/w_3.deb --record, then "
                              "venvdeb wheelhouse verify <release> /o/w_3.deb --record")


def wheel_item(name, file, sha, origin="downloaded", source=None):
    return WheelItem(name=name, version="1.0", file=file, sha256=sha, size=1, origin=origin, source=source)


def manifest(*wheels) -> Manifest:
    return Manifest(release="r", package="w", version="3", interpreter="cp311", python="3.11", constraints="",
                    constraints_sha256="", wheels=tuple(wheels))


def test_the_payload_is_exactly_the_manifests_wheels_with_their_digests():
    a, b = wheel_item("a", "a-1.0-py3-none-any.whl", "11" * 32), wheel_item("b", "b-1.0-py3-none-any.whl", "22" * 32)
    sums = f"{'11' * 32}  {a.file}\n{'22' * 32}  {b.file}\n".encode()
    digests = {a.file: "11" * 32, b.file: "33" * 32, "extra.whl": "44" * 32, "SHA256SUMS": "x", "manifest.json": "y"}
    assert verify.payload_failures(digests, {"SHA256SUMS": sums}, manifest(a, b)) == [
        "extra.whl: in the package, not in its manifest",
        f"{b.file}: sha256 {'33' * 32}, the manifest says {'22' * 32}",
    ]
    assert verify.payload_failures({"SHA256SUMS": "x"}, {"SHA256SUMS": b""}, manifest(a)) == [
        f"{a.file}: in the manifest, not in the package",
        f"{a.file}: SHA256SUMS says nothing, the manifest {'11' * 32}",
    ]


class Index:
    """The index at its boundary: project pages by URL."""

    def __init__(self, pages):
        self.pages, self.asked = pages, []

    def get_bytes(self, url, accept=None):
        self.asked.append((url, accept))
        if url not in self.pages:
            raise NotFound(url)
        return json.dumps({"files": self.pages[url]}).encode()


def test_each_wheel_is_compared_with_what_the_index_publishes_for_its_file_or_its_sdist():
    index = Index({"https://i/simple/a/": [{"filename": "a-1.0-py3-none-any.whl", "hashes": {"sha256": "11" * 32}}],
                   "https://i/simple/b/": [{"filename": "b-1.0.tar.gz", "hashes": {"sha256": "55" * 32}}]})
    same = wheel_item("a", "a-1.0-py3-none-any.whl", "11" * 32)
    other = wheel_item("a", "a-1.0-py3-none-any.whl", "99" * 32)
    built = wheel_item("b", "b-1.0-py3-none-any.whl", "77" * 32, "built",
                       {"file": "b-1.0.tar.gz", "sha256": "55" * 32, "url": "https://files/b-1.0.tar.gz"})
    from_git = wheel_item("c", "c-1.0-py3-none-any.whl", "88" * 32, "built", {"git": "https://g/c.git"})
    assert verify.published("https://i/simple", same, index) == ("a-1.0-py3-none-any.whl", "")
    assert verify.published("https://i/simple", other, index)[1] == (
        f"the index publishes sha256 {'11' * 32}, the wheelhouse has {'99' * 32}")
    assert verify.published("https://i/simple", built, index) == ("b-1.0.tar.gz", "")
    assert verify.published("https://i/simple", from_git, index)[1] == \
        "no index file to check: built from https://g/c.git"
    missing = wheel_item("d", "d-1.0-py3-none-any.whl", "11" * 32)
    assert verify.published("https://i/simple", missing, index)[1] == "d is not on the index https://i/simple"
    assert index.asked[0] == ("https://i/simple/a/", "application/vnd.pypi.simple.v1+json")


def test_a_service_of_a_cloud_is_promoted_only_after_the_cloud_gate_with_that_very_version():
    wheelhouses = {"openstack-wheelhouse-2026.2"}
    assert gates.to_promote("venv-nova", wheelhouses, {"venv-nova"}) == ("lint", "smoke", "rebuild", "cloud")
    assert gates.to_promote("venv-svc", wheelhouses, {"venv-nova"}) == ("lint", "smoke", "rebuild")
    assert gates.to_promote("openstack-wheelhouse-2026.2", wheelhouses, {"venv-nova"}) == ("lint", "verify", "rebuild")


def test_the_cloud_gate_counts_for_the_version_it_ran():
    from venvdeb.repository.reprepro import _not_passed

    ran = {"passed": True, "versions": {"venv-nova": "34.0.0-deb12u10", "venv-keystone": "30.0.0-deb12u6"}}
    assert _not_passed("cloud", ran, "venv-nova", "34.0.0-deb12u10") is None
    assert _not_passed("cloud", ran, "venv-nova", "34.0.0-deb12u11") == \
        "passed with venv-nova 34.0.0-deb12u10 installed, not 34.0.0-deb12u11"
    assert _not_passed("cloud", {**ran, "passed": False}, "venv-nova", "34.0.0-deb12u10") == "failed"
    assert _not_passed("cloud", None, "venv-nova", "34.0.0-deb12u10") == "not run"
    assert _not_passed("smoke", {"passed": "yes"}, "venv-nova", "34.0.0-deb12u10") == "failed"
