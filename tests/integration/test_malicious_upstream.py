"""Issue 24: upstream code never runs with the builder's privileges.

A release's one service comes from a malicious upstream (tests/integration/malicious/), on a
package index of its own on 127.0.0.1: ``evil-build``, an sdist whose setup.py runs when the
wheelhouse builds it, and ``evil-pth``, a wheel whose .pth file runs in every interpreter of the
service's venv as it starts. The release is built for bookworm (this host's distribution) and
trixie, and goes through venvdeb's pipeline: wheelhouse, build, lint, smoke (piuparts is left
out: it would add an image and minutes, and is shown by test_piuparts.py), publish.

Wherever the upstream code runs it tries four attacks, and carries on:

1. write a file on the host, in this test's directory;
2. read the repository's signing key, from this test's GnuPG home;
3. plant a file in venvdeb's cache, among the wheels the host packs into every wheelhouse;
4. reach the repository's HTTP server on the host's 127.0.0.1, directly and through venvdeb's
   egress proxy.

That each attempt ran is proven by the marks the code leaves where it runs, carried out of
places the test cannot see afterwards (a chroot is gone once its step ends):

- the sdist's build (``sdist-build``) writes its marks into the package it builds
  (evil_build/marks.json): the test reads them from the service's .deb of each distribution;
- the .pth during the service's build (``service-build``: the service's build command runs the
  venv's python) writes them into the venv being built (evil_pth/marks-service-build.json):
  read from the .deb too;
- the .pth in smoke (``run``) writes them in the smoke chroot's /tmp, where the service's smoke
  command ``evil-marks`` reads them: it passes only if the .pth ran in its interpreter and tried
  every attack, got neither the key nor the server, and ran in no maintainer script (postinst
  runs the venv's python with -I -S, as root, so a .pth must not run there). Smoke keeps nothing
  of a command that passes; a failing one's output, the marks, is its detail in the pipeline's
  log.

That each attempt failed is shown from the host: no file in the test's directory, none planted
in the cache, no request of theirs reached the repository's server (it records every request),
and no /tmp/evil-marks-<token> on the host (upstream code ran on the host only if it is there);
and by the marks themselves for what only the inside sees: the key was not read.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.conftest import http_server
from venvdeb.model.versions import DEBIAN_RELEASES
from venvdeb.repository.serve import RepositoryHandler

from . import malicious
from .conftest import both_distributions, in_a_new_repository

pytestmark = [pytest.mark.integration, pytest.mark.network]

RELEASE = "m1"
DISTRIBUTIONS = ("bookworm", "trixie")
# The service's build command starts the venv's python, as horizon's collectstatic does: the .pth
# runs at build time. evil-pth is a requirement of the service's own.
SERVICE_EXTRA = """
requirements = ["evil-pth"]

[build]
commands = ["python -c pass"]
"""
SERVER_SAYS = "the repository's server answers"


@pytest.fixture
def repository_server(tmp_path):
    """The repository's HTTP server as an operator runs it (venvdeb's handler over this test's
    repository) on 127.0.0.1, recording every request; /evil/... gets an answer of its own, so
    the upstream code knows when it reached it. Yields (port, the requests' paths)."""
    seen: list[str] = []

    class Recording(RepositoryHandler):
        def do_GET(self):
            seen.append(self.path)
            if not self.path.startswith("/evil/"):
                return super().do_GET()
            body = SERVER_SAYS.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with http_server(functools.partial(Recording, directory=str(tmp_path / "repo"))) as port:
        yield port, seen


def one(paths) -> Path:
    found = sorted(paths)
    assert len(found) == 1, found
    return found[0]


def marks_in(deb: Path, dest: Path) -> dict[str, dict]:
    """The marks the builds left in the service's package: the sdist's and the build's .pth's."""
    subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    site = one((dest / "usr/lib/venvs/svc/lib").glob("python3.*/site-packages"))
    found = {}
    for who, path in (("sdist-build", "evil_build/marks.json"), ("service-build", "evil_pth/marks-service-build.json")):
        assert (site / path).is_file(), f"{deb.name}: no {path}: the {who} did not run"
        found[who] = json.loads((site / path).read_text())
    return found


def test_upstream_code_tries_every_attack_where_it_runs_and_none_reaches_the_host(make_root, tmp_path, cache_dir,
                                                                                   repository_server):
    port, requests = repository_server
    targets = malicious.Targets(host_dir=tmp_path / "host-files", gnupghome=tmp_path / "gnupg",
                                cache_plant_dir=cache_dir / "wheels", repo_port=port, server_says=SERVER_SAYS,
                                token=uuid.uuid4().hex[:12])
    files = tmp_path / "index"
    malicious.sdist(targets, files)
    malicious.wheel(targets, files)
    marks_on_host = Path(targets.marks_dir)
    try:
        with malicious.package_index(files) as index:
            root = make_root("evil-build===1.0\nevil-pth===1.0\n", {"svc": ("evil-build", "1.0")}, name=RELEASE,
                             release_extra=f'index_url = "{index}"\nlint_fail_on = ["error"]\n',
                             service_extra=SERVICE_EXTRA, scripts=("evil-build", "evil-marks"))
            both_distributions(root, RELEASE)
            service = root / "services" / "svc.toml"
            service.write_text(service.read_text().replace('smoke_commands = ["svc --version"]',
                                                           'smoke_commands = ["evil-build --version", "evil-marks"]'))
            proc = in_a_new_repository(root, tmp_path, cache_dir, "pipeline", RELEASE, "--no-piuparts")

        # The service works: the pipeline passed at both distributions (it exits 0 only then),
        # and each package's gates, as the repository records them, include smoke's evil-marks
        # (the .pth ran in smoke, tried everything, and ran in no maintainer script).
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
        gates = tmp_path / "repo" / "gates"
        for distribution in DISTRIBUTIONS:
            record = json.loads(one(gates.glob(f"venv-svc_1.0-deb{DEBIAN_RELEASES[distribution]}u*.json")).read_text())
            checks = {c["name"]: c["passed"] for c in record["smoke"]["checks"]}
            assert checks.get("run: evil-marks") is True, record["smoke"]

        # Each attempt ran, in a build of each distribution: the marks in its package say so.
        inside = {}
        out = tmp_path / "out" / RELEASE
        for distribution in DISTRIBUTIONS:
            deb = one(out.glob(f"venv-svc_1.0-deb{DEBIAN_RELEASES[distribution]}u*_*.deb"))
            for who, marks in marks_in(deb, tmp_path / f"deb-{distribution}").items():
                assert marks["where"] == distribution, marks  # built in an environment of that distribution
                assert set(malicious.ATTACKS) <= set(marks), marks
                inside[f"{who}@{distribution}"] = marks

        # ... and none got anywhere on the host.
        breaches = []
        for label, marks in sorted(inside.items()):
            if marks["read_key"].startswith("read"):
                breaches.append(f"{label} read the signing key: {marks['read_key']}")
            if "reached" in marks["reach_repository"]:
                breaches.append(f"{label} reached the repository's server: {marks['reach_repository']}")
        if targets.host_dir.exists():
            breaches.append(f"written on the host, in {targets.host_dir}: "
                            f"by {sorted(p.name for p in targets.host_dir.iterdir())}")
        planted = sorted(p.name for p in targets.cache_plant_dir.glob(f"evil-planted-{targets.token}-*"))
        if planted:
            breaches.append(f"planted in the cache's {targets.cache_plant_dir}: {planted}")
        reached = [r for r in requests if r.startswith("/evil/")]
        if reached:
            breaches.append(f"requests that reached the repository's server on 127.0.0.1:{port}: {reached}")
        if marks_on_host.exists():
            breaches.append(f"upstream code ran on this host (its marks are in {marks_on_host}): "
                            f"{sorted(p.name for p in marks_on_host.iterdir())}")
        assert not breaches, "\n".join(breaches) + "\n" + json.dumps(inside, indent=1, sort_keys=True)
    finally:
        # What the attacks left where other tests look (the session's cache, the host's /tmp).
        for planted_file in targets.cache_plant_dir.glob(f"evil-planted-{targets.token}-*"):
            planted_file.unlink()
        shutil.rmtree(marks_on_host, ignore_errors=True)
