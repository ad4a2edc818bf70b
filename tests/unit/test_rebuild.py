"""The independent rebuild's pure parts (service/rebuild.py, build.py's replay checks): which
inputs it repeats, what it refuses to compare, and how it asks diffoscope. The rebuild itself runs
for real in tests/integration/test_pipeline.py and test_rogue_worker.py."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from venvdeb.errors import VenvdebError
from venvdeb.model.ledger import Entry
from venvdeb.service.build import built_at, same_inputs
from venvdeb.deb import diffoscope_argv
from venvdeb.service.rebuild import recorded_wheelhouse


def entry(*changes: str, digest: str = "d" * 64, wheelhouse: str = "3+deb12") -> Entry:
    return Entry("1.0-deb12u2", digest, "Mon, 07 Dec 2026 02:00:00 +0000", {}, changes, wheelhouse)


SERVICE = SimpleNamespace(package="venv-svc", source=SimpleNamespace(branch="stable/r1"))


def test_a_git_services_rebuild_checks_out_the_commit_its_build_recorded():
    built = entry("Build stable/r1 at 0123456789ab: Fix the thing: really.", "Wheelhouse w 3+deb12, unchanged.")
    assert built_at(built, SERVICE) == "0123456789ab"
    # A farm's reason names the commit its own way, and another branch's line is not this one's:
    # the branch's head then, which the digest check holds to the recorded build.
    assert built_at(entry("Automatic build (git): /srv/git/svc.git stable/r1 at 0123456789ab."), SERVICE) is None
    assert built_at(entry("Build master at 0123456789ab: x."), SERVICE) is None
    assert built_at(entry("Build stable/r1 at --upload-pack=x: y."), SERVICE) is None


def test_a_rebuild_refuses_inputs_other_than_the_recorded_ones():
    wheelhouse = SimpleNamespace(package="w", version="3+deb12")
    same_inputs(entry(), "d" * 64, wheelhouse, SERVICE)  # the same: nothing to say
    with pytest.raises(VenvdebError, match=r"built from w 4\+deb12, not 3\+deb12") as moved:
        same_inputs(entry(wheelhouse="4+deb12"), "d" * 64, wheelhouse, SERVICE)
    assert "--wheelhouse-deb" in moved.value.hint
    with pytest.raises(VenvdebError, match="not the ones it was built from") as changed:
        same_inputs(entry(), "e" * 64, wheelhouse, SERVICE)
    assert "Packaging at commit" in changed.value.hint


def test_the_wheelhouse_of_the_build_is_found_beside_or_in_the_repository_else_asked_for(tmp_path):
    point = SimpleNamespace(wheelhouse_package="w")
    pooled = tmp_path / "pool" / "w_3+deb12_amd64.deb"
    assert recorded_wheelhouse(point, "3+deb12", tmp_path / "out", lambda v: pooled if v == "3+deb12" else None) == pooled
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "w_3+deb12_amd64.deb").write_bytes(b"x")
    assert recorded_wheelhouse(point, "3+deb12", tmp_path / "out", lambda v: None).parent == tmp_path / "out"
    with pytest.raises(VenvdebError, match=r"no w 4\+deb12 in .* or the repository") as missing:
        recorded_wheelhouse(point, "4+deb12", tmp_path / "out", lambda v: None)
    assert missing.value.hint == "give it: --wheelhouse-deb"


def test_diffoscope_writes_a_bounded_text_report_on_its_output(tmp_path):
    argv = diffoscope_argv(tmp_path / "a.deb", tmp_path / "b.deb")
    assert argv[:3] == ["diffoscope", "--text", "-"]
    assert argv[-2:] == [str(tmp_path / "a.deb"), str(tmp_path / "b.deb")]
    assert "--max-report-size" in argv
