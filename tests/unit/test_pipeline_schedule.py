"""How `venvdeb pipeline` orders its stages, with its tools faked at their boundaries: the
wheelhouse's gates run beside the first builds, and a wheelhouse that fails them stops the
pipeline with nothing published."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from tests.conftest import PROJECT
from venvdeb import pipeline
from venvdeb.model import load_release
from venvdeb.service.build import BuildOptions


class Repository:
    """The repository at its boundary: what would be published."""

    def __init__(self):
        self.published = []

    def publish(self, suite, deb, gates):
        self.published.append(deb)
        return SimpleNamespace(published=True)


def run_with(monkeypatch, tmp_path, wheelhouse_passes: bool):
    point = load_release(PROJECT / "packaging", "2026.2").at("bookworm")
    built, building = [], threading.Event()
    seen = {}

    def wheelhouse_gates(self, deb, version):
        # Waits for the first build: the two run at once, or this says they did not.
        seen["builds began meanwhile"] = building.wait(timeout=30)
        self.stage(point.wheelhouse_package, "lint", lambda: wheelhouse_passes, passed=lambda ok: ok)

    def built_or_kept(self, service, options):
        building.set()
        built.append(service.name)
        return SimpleNamespace(skipped="closure and packaging unchanged", deb="", version="1")

    monkeypatch.setattr(pipeline.images, "smoke", lambda *a, **k: None)
    monkeypatch.setattr(pipeline.wheelhouse, "preflight", lambda *a, **k: None)
    monkeypatch.setattr(pipeline._Run, "fresh", lambda self, *a, **k: SimpleNamespace(
        deb="openstack-wheelhouse-2026.2_1+deb12_amd64.deb", version="1+deb12", wheels=1))
    monkeypatch.setattr(pipeline._Run, "wheelhouse_gates", wheelhouse_gates)
    monkeypatch.setattr(pipeline._Run, "built_or_kept", built_or_kept)
    repo = Repository()
    run = pipeline._Run(point, repo, environment=None, log=lambda *a: None, piuparts=False)
    options = BuildOptions(cache_dir=tmp_path / "cache", out_dir=tmp_path / "out", state_dir=tmp_path / "state")
    result = run.all(["keystone", "placement"], options, wheelhouse_options=SimpleNamespace(cache_dir=None))
    return result, repo, seen, built


def test_the_wheelhouse_gates_run_beside_the_first_builds_and_publication_waits_for_them(monkeypatch, tmp_path):
    result, repo, seen, built = run_with(monkeypatch, tmp_path, wheelhouse_passes=True)
    assert seen["builds began meanwhile"]
    assert built == ["keystone", "placement"]
    assert [(s.package, s.stage, s.passed) for s in result.stages] == [
        ("openstack-wheelhouse-2026.2", "wheelhouse", True), ("openstack-wheelhouse-2026.2", "lint", True),
        ("venv-keystone", "build", True), ("venv-placement", "build", True), ("*", "publish", True)]
    assert [str(d) for d in repo.published] == ["openstack-wheelhouse-2026.2_1+deb12_amd64.deb"]


def test_a_wheelhouse_that_fails_its_gates_stops_the_pipeline_with_nothing_published(monkeypatch, tmp_path):
    result, repo, seen, built = run_with(monkeypatch, tmp_path, wheelhouse_passes=False)
    assert not result.passed and repo.published == []
    assert ("openstack-wheelhouse-2026.2", "lint", False) in [(s.package, s.stage, s.passed) for s in result.stages]
    assert "publish" not in [s.stage for s in result.stages]
