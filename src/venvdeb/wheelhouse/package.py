"""The wheelhouse .deb: a source tree rendered from wheelhouse-builder/, built with dpkg-buildpackage."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from .. import deb
from ..environment import Environment
from ..resources import wheelhouse_builder


def render(tree: Path, context: dict, skeleton: Path | None = None) -> None:
    """Render every ``*.j2`` of the skeleton into ``tree``; copy other files as they are."""
    skeleton = skeleton or wheelhouse_builder()
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


def build(environment: Environment, tree: Path, log_file: Path) -> Path:
    """Build the rendered tree with dpkg-buildpackage; the .deb it wrote beside the tree."""
    return deb.buildpackage(environment, tree, log_file, hint="apt-get install debhelper dpkg-dev (make setup does it)")
