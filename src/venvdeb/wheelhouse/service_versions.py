"""Before anything is compiled or built: each service's version is on the index, for every
distribution of its release, and so is each constraint override's.

The resolver says the same of one point, once a chroot of it is made and its interpreter probed;
this says it of the whole release at once, from the index alone, so that `venvdeb lock` and a
wheelhouse build stop before they write anything, with the release file's key named.
"""

from __future__ import annotations

import json

from packaging.utils import canonicalize_name
from packaging.version import Version

from ..errors import VenvdebError
from ..http import Client, NotFound
from ..model import Release
from ..model.versions import DEBIAN_PYTHON
from . import artifacts, series
from .index import PEP691


def released(files: list[dict]) -> list[Version]:
    """The versions the index has a file of (not yanked), newest first."""
    return sorted({v for _, v in filter(None, (artifacts.file_version(f["filename"]) for f in files
                                               if not f.get("yanked")))}, reverse=True)


def problems(release: Release, files_of) -> list[str]:
    """What is wrong with the release's PyPI-sourced service versions and its overrides;
    ``files_of(name)`` gives the index's PEP 691 file entries of a project (None when the index
    does not have it)."""
    found = []
    for o in release.constraints.overrides:
        files = files_of(o.canonical)
        if files is None or Version(o.version) not in released(files):
            found.append(f"key 'constraints.overrides.{o.name}.version': {release.index_url} has no release "
                         f"{o.version} of {o.name}")
    for service in release.services:
        source = service.source
        if not source.pypi:
            continue  # a git service's version is its checkout's
        key = f"key 'services.{service.name}.version'"
        files = files_of(canonicalize_name(source.pypi))
        if files is None:
            found.append(f"{key}: {release.index_url} has no project {source.pypi} (the service file's "
                         f"'source.pypi', {service.path.name})")
            continue
        versions = released(files)
        version = series.newest(versions, source.series) if source.series else Version(source.version)
        if version is None or version not in versions:
            newest = ", ".join(str(v) for v in versions[:5]) or "none"
            what = f"no final release in the series {source.series}" if source.series else f"no release {source.version}"
            found.append(f"{key}: {release.index_url} has {what} of {source.pypi} (its newest: {newest})")
            continue
        for distribution in release.distributions:
            # Only Debian's own python3 has a version known before its chroot is made.
            python = DEBIAN_PYTHON.get(distribution) if release.python == "/usr/bin/python3" else None
            mine = [f for f in files if (artifacts.file_version(f["filename"]) or (None, None))[1] == version]
            if python and not any(artifacts.python_ok(f.get("requires-python"), python) for f in mine):
                excluded = " or ".join(artifacts.python_excluded(str(version), files, python))
                found.append(f"{key}: {source.pypi} {version} has Requires-Python {excluded}, which excludes "
                             f"{distribution}'s /usr/bin/python3 (Python {python}): pin a version that admits "
                             f"it, or remove {distribution} from the release's distributions")
    return found


def check(release: Release, client: Client | None = None) -> None:
    """Raise, naming the release file and each service's key, when a version cannot be built."""
    client = client or Client()

    def files_of(name: str):
        try:
            return json.loads(client.get_bytes(f"{release.index_url}/{name}/", accept=PEP691))["files"]
        except NotFound:
            return None

    found = problems(release, files_of)
    if found:
        raise VenvdebError(f"{release.path}: release {release.name} cannot be built:\n"
                           + "\n".join(f"  - {p}" for p in found),
                           hint="fix the versions in the release file; nothing was compiled or built")
