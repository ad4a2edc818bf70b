"""The model: releases, services, constraints and versions, strict and validated before anything
runs; and the data one stage hands to the next (the wheelhouse manifest, the stages' results).

- release.py, service.py, schema.py: the packaging root's TOML files, validated whole;
- constraints.py: pins from upper-constraints or a pip-tools lock;
- build_lock.py: what builds a release's wheels from source, and what its sdists declare;
- closure.py: what a service needs under those pins (walked over the index or a manifest);
- wheelmeta.py: what a wheel says of itself;
- manifest.py: the wheelhouse's manifest; results.py: the stages' JSON results;
- versions.py, ledger.py: Debian versions of Python versions, and the versions already built.
"""

from .release import ConstraintsSource, Point, Release, list_releases, load_release
from .service import ConfigSample, Daemon, Service, Source, load_service

__all__ = ["ConfigSample", "ConstraintsSource", "Daemon", "Point", "Release", "Service", "Source", "list_releases",
           "load_release", "load_service"]
