"""The master configuration, generated from packaging/.

One builder per release wheelhouse for now (``wheelhouse-<release>``), each with a force
scheduler. Service builders, pollers, web authorization and more workers come with the
Buildbot stage.
"""

from __future__ import annotations

import os
from pathlib import Path

from buildbot.plugins import schedulers, steps, util, worker

from ..model import list_releases, load_release


def identifier(name: str) -> str:
    """Buildbot wants identifiers for scheduler names: '2025.2' has to become '2025_2'."""
    return "".join(ch if ch.isalnum() else "_" for ch in name)


def wheelhouse_factory(release: str) -> util.BuildFactory:
    factory = util.BuildFactory()
    factory.addStep(steps.ShellCommand(
        name="wheelhouse",
        command=["venvdeb", "wheelhouse", "build", release, "--json"],
        haltOnFailure=True,
    ))
    return factory


def make_config(root: Path) -> dict:
    packaging_root = Path(root) / "packaging"
    releases = [load_release(packaging_root, name) for name in list_releases(packaging_root)]
    worker_name = os.environ.get("VENVDEB_WORKER_NAME", "local")
    builders = [
        util.BuilderConfig(name=f"wheelhouse-{r.name}", workernames=[worker_name],
                           factory=wheelhouse_factory(r.name))
        for r in releases
    ]
    return {
        "title": "venvdeb",
        "buildbotNetUsageData": None,
        "workers": [worker.Worker(worker_name, os.environ.get("VENVDEB_WORKER_PASSWORD", "local-worker"))],
        "protocols": {"pb": {"port": os.environ.get("VENVDEB_WORKER_PORT", "tcp:9989:interface=127.0.0.1")}},
        "builders": builders,
        "schedulers": [
            schedulers.ForceScheduler(name=identifier(f"force-{b.name}"), builderNames=[b.name])
            for b in builders
        ],
        "www": {"port": os.environ.get("VENVDEB_WWW_PORT", "tcp:8010:interface=127.0.0.1")},
        "db": {"db_url": os.environ.get("VENVDEB_DB_URL", "sqlite:///state.sqlite")},
    }
