"""Choosing the file of a release that fits the target interpreter."""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..model.closure import Artifact


def python_ok(requires_python: str | None, python_version: str) -> bool:
    if not requires_python:
        return True
    try:
        return SpecifierSet(requires_python).contains(python_version, prereleases=True)
    except InvalidSpecifier:
        return True  # pip ignores what it cannot parse; so do we


def file_version(filename: str) -> tuple[str, Version] | None:
    """(kind, version) of a distribution file, or None if it is neither a wheel nor an sdist."""
    try:
        if filename.endswith(".whl"):
            return "wheel", parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return "sdist", parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def choose(name: str, version: str, files: list[dict], tag_rank: dict[str, int], python_version: str) -> Artifact | None:
    """The best file of ``name`` ``version`` for the target: the wheel whose best tag the target
    prefers most, else the sdist; None when neither exists.

    ``files`` are PEP 691 file entries (filename, url, hashes, requires-python, yanked, core-metadata).
    """
    wanted = Version(version)
    best: tuple[int, dict] | None = None
    sdist: dict | None = None
    for f in files:
        parsed = file_version(f["filename"])
        if parsed is None or parsed[1] != wanted or "sha256" not in f.get("hashes", {}):
            continue
        if not python_ok(f.get("requires-python"), python_version):
            continue
        kind = parsed[0]
        if kind == "sdist":
            # Prefer .tar.gz over .zip, deterministically.
            if sdist is None or (f["filename"].endswith(".tar.gz"), f["filename"]) > (
                sdist["filename"].endswith(".tar.gz"), sdist["filename"]):
                sdist = f
            continue
        tags = parse_wheel_filename(f["filename"])[3]
        ranks = [tag_rank[str(t)] for t in tags if str(t) in tag_rank]
        if ranks and (best is None or (min(ranks), f["filename"]) < (best[0], best[1]["filename"])):
            best = (min(ranks), f)
    chosen, kind = (best[1], "wheel") if best else (sdist, "sdist")
    if chosen is None:
        return None
    return Artifact(
        name=name, version=version, filename=chosen["filename"], url=chosen["url"],
        sha256=chosen["hashes"]["sha256"], kind=kind,
        has_metadata=bool(chosen.get("core-metadata") or chosen.get("data-dist-info-metadata")),
    )


def python_excluded(version: str, files: list[dict], python_version: str) -> list[str]:
    """The Requires-Python of ``version``'s files that exclude the target's Python: why a release
    that exists has nothing for the target (empty when that is not the reason)."""
    wanted = Version(version)
    found = set()
    for f in files:
        parsed = file_version(f["filename"])
        if parsed and parsed[1] == wanted and not python_ok(f.get("requires-python"), python_version):
            found.add(f["requires-python"])
    return sorted(found)


def versions(files: list[dict], python_version: str) -> list[Version]:
    """Versions that have at least one non-yanked file usable by the target, newest first."""
    found = set()
    for f in files:
        parsed = file_version(f["filename"])
        if parsed and not f.get("yanked") and python_ok(f.get("requires-python"), python_version):
            found.add(parsed[1])
    return sorted(found, reverse=True)
