"""The wheelhouse of a release: resolved over the index (index.py, artifacts.py), fetched and
built from sdists (sdist.py, hints.py) into the content-addressed cache (cache.py), packaged as a
.deb (package.py); build.py runs it all; lock.py compiles a release's pip-tools lock."""

from .build import Checked, Options, build, preflight

__all__ = ["Checked", "Options", "build", "preflight"]
