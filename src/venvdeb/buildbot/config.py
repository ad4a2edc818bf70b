"""The master configuration, generated from packaging/ and the settings.

Builders: ``wheelhouse-<release>-<distribution>`` and ``<release>-<distribution>-venv-<service>``
for every release in the packaging root at each of its distributions, each on every configured
worker. The tags (release, distribution, kind) filter the web UI's views.
"""

from __future__ import annotations

import os
from pathlib import Path

from buildbot.plugins import util, worker

from ..model import list_releases, load_release
from ..model.cloud import runs_a_cloud
from . import factories, point_releases, schedulers, settings as settings_mod, tls, www
from .secrets_file import SecretsFile


def builders(settings, release) -> list:
    workers = list(settings.workers)
    found = [util.BuilderConfig(
        name=schedulers.wheelhouse_builder(release), workernames=workers,
        factory=factories.wheelhouse_factory(settings, release, schedulers.trigger_name(release)),
        locks=[factories.package_lock(release, release.wheelhouse_package).access("exclusive")],
        tags=[release.name, release.distribution, "wheelhouse"])]
    for service in release.services:
        found.append(util.BuilderConfig(
            name=schedulers.service_builder(release, service), workernames=workers,
            # No lock: the master gives each build of the package a version of its own.
            factory=factories.service_factory(settings, release, service),
            tags=[release.name, release.distribution, "service"]))
    # The cloud gate runs on the master, from the point's staging suite; requests made while one
    # runs (several packages published) are one run after it, of what staging has then.
    if runs_a_cloud(release.services):
        found.append(util.BuilderConfig(name=schedulers.cloud_builder(release), workernames=[MASTER_WORKER],
                                        factory=factories.cloud_factory(settings, release), collapseRequests=True,
                                        tags=[release.name, release.distribution, "cloud"]))
    # Promotion and rollback run on the master, in a worker of its own process: never queued
    # behind builds.
    for name, factory, kind in ((schedulers.promote_builder(release), factories.promote_factory, "promote"),
                                (schedulers.rollback_builder(release), factories.rollback_factory, "rollback")):
        found.append(util.BuilderConfig(name=name, workernames=[MASTER_WORKER], factory=factory(settings, release),
                                        tags=[release.name, release.distribution, kind]))
    return found


# A worker inside the master's process, for builders whose steps all run on the master.
MASTER_WORKER = "master-local"


def make_config(root: Path, environ: dict | None = None) -> dict:
    settings = settings_mod.load(Path(root), os.environ if environ is None else environ)
    secrets = settings.secrets()  # who exists (workers, logins, admins); passwords via the provider
    provider = SecretsFile(path=str(settings.path(settings.secrets_file)))
    packaging = settings.path(settings.packaging)
    releases = [load_release(packaging, name) for name in list_releases(packaging)]
    watches = schedulers.Watches()
    all_builders, all_schedulers = [], []
    points = [p for release in releases for p in release.points()]
    for point in points:
        all_builders += builders(settings, point)
        all_schedulers += schedulers.for_release(settings, point, watches)
    all_builders.append(util.BuilderConfig(name=schedulers.REFRESH_BUILDER, workernames=[MASTER_WORKER],
                                           factory=factories.refresh_factory(settings), tags=["repository"]))
    all_schedulers += schedulers.repository_refresh()
    return {
        "title": "venvdeb",
        "buildbotURL": settings.www_url,
        "buildbotNetUsageData": None,
        "secretsProviders": [provider],
        # A worker's password is a Secret, rendered by Buildbot from the provider when the master
        # starts; one without a configured password gets an unguessable one (it cannot connect).
        "workers": [worker.Worker(name, util.Secret(f"workers/{name}") if name in secrets.workers
                                  else settings_mod.worker_password(secrets, name), max_builds=1)
                    for name in settings.workers] + [worker.LocalWorker(MASTER_WORKER)],
        # TLS only: a worker pins the certificate (tls_dir/workers/cert.pem); plain PB is refused.
        "protocols": {"pb": {"port": tls.worker_port(settings.worker_port, settings.worker_host,
                                                      settings.path(settings.tls_dir))}},
        "builders": all_builders,
        "schedulers": all_schedulers,
        "change_source": watches.pollers(settings) + point_releases.pollers(settings, points, schedulers.point_name),
        "www": www.www(settings, secrets, points, provider),
        "db": {"db_url": settings.db_url},
        # Every request is a build: Buildbot would otherwise fold a queued request into another of
        # the same source stamp, and a forced build's reason (or a second build asked for at once)
        # would silently not happen.
        "collapseRequests": False,
    }
