"""The release page's rows and HTML, from a repository and Buildbot's data (fakes at those two
boundaries: the repository's records, and the data API)."""

from __future__ import annotations

import os

from venvdeb.buildbot.release_page import age_text, render, rows
from venvdeb.model import load_release

from tests.conftest import PROJECT


class FakeRepo:
    """The repository's records, as Repository.suites and gates give them. No tool runs: a call
    to reprepro fails the test."""

    def __init__(self, suites: dict, gates: dict):
        self._suites, self._gates = suites, gates

    def suites(self):
        return self._suites

    def reprepro(self, *args, check=True):
        raise AssertionError(f"the page ran reprepro {args}")

    def gates(self, package, version):
        return self._gates.get((package, version), {})


def test_each_point_shows_its_packages_versions_gates_age_and_last_build(tmp_path):
    release = load_release(PROJECT / "packaging", "2026.1")
    points = release.points()
    pool = tmp_path / "venv-nova_33.0.2-deb12u2_amd64.deb"
    pool.write_bytes(b"x")
    os.utime(pool, (1_000_000, 1_000_000))
    repo = FakeRepo(
        {"bookworm-2026.1-staging": {"venv-nova": ("33.0.2-deb12u2", pool),
                                     "venv-keystone": ("29.1.0-deb12u1", tmp_path / "gone.deb")},
         "bookworm-2026.1": {"venv-nova": ("33.0.2-deb12u1", tmp_path / "old.deb")}},
        {("venv-nova", "33.0.2-deb12u2"): {"lint": {"passed": True}, "smoke": {"passed": False}},
         ("venv-keystone", "29.1.0-deb12u1"): {"rebuild": {
             "passed": False, "differences": "--- venv-keystone_29.1.0-deb12u1_amd64.deb\n<planted>.pth"}}})
    builds = {"2026.1-bookworm-venv-nova": ("#/builders/3/builds/7", "failure")}
    found = rows(points, repo, builds.get, now=1_000_000 + 3 * 86400)
    assert [(p.release, p.distribution) for p in found] == [("2026.1", "bookworm"), ("2026.1", "trixie")]
    nova = next(r for r in found[0].rows if r.package == "venv-nova")
    assert (nova.staging, nova.production, nova.lint, nova.smoke, nova.age) == (
        "33.0.2-deb12u2", "33.0.2-deb12u1", "passed", "FAILED", "3 d")
    assert (nova.build_url, nova.build_result) == ("#/builders/3/builds/7", "failure")
    keystone = next(r for r in found[0].rows if r.package == "venv-keystone")
    assert (keystone.lint, keystone.smoke, keystone.age) == ("", "", "")  # no record of these, no pool file
    assert (nova.rebuild, nova.differences, keystone.rebuild) == ("", "", "FAILED")
    assert keystone.differences.startswith("--- venv-keystone_29.1.0-deb12u1_amd64.deb")
    # trixie's suites do not exist yet: every package is there, with nothing.
    assert [r.package for r in found[1].rows][0] == "openstack-wheelhouse-2026.1"
    assert all(not r.staging for r in found[1].rows)

    page = render(found)
    assert '<h2 id="2026.1-bookworm">2026.1 on bookworm</h2>' in page
    assert '<td class="staging">33.0.2-deb12u2</td>' in page and '<td class="FAILED">FAILED</td>' in page
    assert '<a href="#/builders/3/builds/7" target="_top" class="failure">failure</a>' in page
    # A rebuild that gave other bytes: diffoscope's account on the page, escaped like every value.
    assert '<td class="rebuild FAILED">FAILED' in page and '<td class="rebuild none">-</td>' in page
    assert '<pre class="diffoscope">--- venv-keystone_29.1.0-deb12u1_amd64.deb\n&lt;planted&gt;.pth</pre>' in page


def test_ages_read_as_a_person_says_them():
    assert [age_text(s) for s in (30, 600, 7200, 3 * 86400)] == ["0 min", "10 min", "2 h", "3 d"]


def test_a_release_with_constraint_overrides_shows_each_with_its_reason():
    current, previous = (load_release(PROJECT / "packaging", name).points()[0] for name in ("2026.2", "2026.1"))
    found = rows([current, previous], FakeRepo({}, {}), {}.get)
    assert [o.name for o in found[0].overrides] == ["horizon", "keystoneauth1", "oslo.versionedobjects"]
    assert found[1].overrides == ()
    page = render(found)
    assert page.count('<ul class="overrides"') == 1
    assert ('<li data-package="keystoneauth1"><strong>keystoneauth1 5.16.0</strong>: nova 34.0.0 requires '
            'keystoneauth1&gt;=5.16.0') in page  # autoescaped, as every value on the page


def test_each_point_shows_its_last_cloud_gate_with_the_versions_it_ran(tmp_path):
    points = load_release(PROJECT / "packaging", "2026.2").points()
    staged = {"venv-nova": ("34.0.0-deb12u10", tmp_path / "n.deb"), "venv-keystone": ("30.0.0-deb12u6", tmp_path / "k.deb")}
    earlier = {"passed": False, "finished": "2026-12-06T10:00:00+00:00", "versions": {"venv-nova": "34.0.0-deb12u9"}}
    last = {"passed": True, "finished": "2026-12-07T10:00:00+00:00",
            "versions": {"venv-keystone": "30.0.0-deb12u6", "venv-nova": "34.0.0-deb12u10"}}
    repo = FakeRepo({"bookworm-2026.2-staging": staged},
                    {("venv-nova", "34.0.0-deb12u10"): {"cloud": last}, ("venv-keystone", "30.0.0-deb12u6"): {"cloud": earlier}})
    builds = {"cloud-2026.2-bookworm": ("#/builders/9/builds/2", "success")}
    found = rows(points, repo, builds.get)
    assert found[0].cloud == last and found[0].cloud_build == ("#/builders/9/builds/2", "success")
    assert {r.package: r.cloud for r in found[0].rows if r.staging} == {"venv-nova": "passed", "venv-keystone": "FAILED"}
    assert found[1].has_cloud and found[1].cloud is None  # trixie: nothing staged, no gate yet
    page = render(found)
    assert ('gate: <span class="passed">passed</span>,\n2026-12-07T10:00:00+00:00\n(<a href="#/builders/9/builds/2" '
            'target="_top" class="success">its last build: success</a>),') in page
    assert ('with <span data-package="venv-keystone">venv-keystone 30.0.0-deb12u6</span>, '
            '<span data-package="venv-nova">venv-nova 34.0.0-deb12u10</span>.') in page
    assert page.count("No cloud gate recorded for what staging holds.") == 1
