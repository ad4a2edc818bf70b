"""The wheelhouse .deb: a source tree rendered from wheelhouse-builder/, built with dpkg-buildpackage."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import jinja2
from debian.changelog import Changelog

from .errors import VenvdebError
from .ledger import Entry

SKELETON = Path(__file__).resolve().parents[2] / "wheelhouse-builder"


def wheel_dir(release_name: str) -> str:
    return f"usr/share/venvdeb/wheelhouse/{release_name}"


def changelog(package: str, distribution: str, maintainer: str, history: list[Entry]) -> str:
    log = Changelog()
    for entry in history:  # new_block() puts each entry on top: oldest first
        log.new_block(
            package=package, version=entry.version, distributions=distribution, urgency="medium",
            author=maintainer, date=entry.date,
            changes=["", *[f"  * {c}" for c in entry.changes], ""],
        )
    return str(log)


def render(tree: Path, context: dict, skeleton: Path = SKELETON) -> None:
    """Render every ``*.j2`` of the skeleton into ``tree``; copy other files as they are."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(skeleton)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    for src in sorted((skeleton / "debian").rglob("*")):
        if src.is_dir():
            continue
        rel = src.relative_to(skeleton)
        if src.suffix == ".j2":
            dest = tree / rel.with_suffix("")
            if dest.name == "lintian-overrides":
                dest = dest.with_name(f"{context['package']}.lintian-overrides")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(env.get_template(str(rel)).render(**context))
        else:
            dest = tree / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    (tree / "debian" / "rules").chmod(0o755)


def buildpackage_argv() -> list[str]:
    # -b: binary only (the source is generated, never uploaded); -us -uc: signing is the
    # repository's job; --no-pre-clean: the tree was just rendered, there is nothing to clean.
    return ["dpkg-buildpackage", "-b", "-us", "-uc", "--no-pre-clean"]


def epoch_of(entry: Entry) -> int:
    return epoch_of_date(entry.date)


def epoch_of_date(date: str) -> int:
    """SOURCE_DATE_EPOCH of a changelog date: the time every file of the package gets."""
    return int(parsedate_to_datetime(date).astimezone(timezone.utc).timestamp())


def year_of(entry: Entry) -> int:
    return parsedate_to_datetime(entry.date).year


def clamp_mtimes(tree: Path, epoch: int) -> None:
    for root, dirs, files in os.walk(tree):
        for name in dirs + files:
            os.utime(os.path.join(root, name), (epoch, epoch), follow_symlinks=False)


def build(tree: Path, entry: Entry, log_file: Path) -> Path:
    """Run dpkg-buildpackage in ``tree``; return the .deb it wrote beside the tree."""
    epoch = epoch_of(entry)
    clamp_mtimes(tree, epoch)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "LC_ALL": "C.UTF-8", "TZ": "UTC"}
    env.pop("MAKEFLAGS", None)
    result = subprocess.run(buildpackage_argv(), cwd=tree, env=env, capture_output=True, text=True)
    log_file.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise VenvdebError(
            f"dpkg-buildpackage failed for the wheelhouse package (log: {log_file}):\n{result.stderr[-1500:]}",
            hint="apt-get install debhelper dpkg-dev (make setup does it)",
        )
    debs = sorted(tree.parent.glob("*.deb"))
    if len(debs) != 1:
        raise VenvdebError(f"dpkg-buildpackage produced {len(debs)} .deb files, expected one (log: {log_file})")
    return debs[0]


