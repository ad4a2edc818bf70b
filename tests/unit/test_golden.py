"""Golden tests of rendered debian/ trees (lintian-brush style: tests/golden/<case>/in and out).

Run with UPDATE_GOLDEN=1 to rewrite the out/ trees after an intended change, then review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from venvdeb.model.manifest import WheelItem
from venvdeb.service.installed import Wheelhouse, closure
from venvdeb.model.ledger import Entry
from venvdeb.model import load_release
from venvdeb.model.closure import Root
from venvdeb.service.render import TEMPLATES, RenderInputs, render
from venvdeb.model.versions import debian_upstream

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "in").is_dir())


def render_case(case: str, dest: Path, golden: Path = GOLDEN, templates: Path = TEMPLATES) -> Path:
    src = golden / case / "in"
    data = json.loads((src / "inputs.json").read_text())
    point = load_release(src / "packaging", "2025.2").at("bookworm")
    service = point.services[0]
    wheelhouse = Wheelhouse.load(src, "/usr/share/venvdeb/wheelhouse/2025.2")
    roots = [Root(r, "service") for r in service.root_requirements()]
    extra, own = {}, None
    if data.get("own_wheel"):
        own = src / data["own_wheel"]
        name, version = data["upstream_name"], data["upstream_version"]
        extra[name] = WheelItem.from_wheel(own, name, version, "built")
        roots.insert(0, Root(Requirement(f"{name}=={version}"), "git"))
    items = closure(wheelhouse, roots, data["markers"], data["tags"], extra)
    history = [Entry(e["version"], e["digest"], e["date"], e["wheels"], tuple(e["changes"]), e["wheelhouse"])
               for e in data["history"]]
    inputs = RenderInputs(point=point, service=service, wheelhouse=wheelhouse, closure=items, history=history,
                          python_version=data["python_version"], upstream_name=data["upstream_name"],
                          upstream_version=data["upstream_version"], homepage=data["homepage"], own_wheel=own)
    return render(inputs, dest / f"{service.package}-{debian_upstream(data['upstream_version'])}", templates)


def files(tree: Path) -> dict[str, Path]:
    return {str(p.relative_to(tree)): p for p in sorted(tree.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES)
def test_rendered_tree_matches_golden(case, tmp_path):
    tree = render_case(case, tmp_path)
    expected = GOLDEN / case / "out"
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(tree, expected)
    got, want = files(tree), files(expected)
    assert sorted(got) == sorted(want)
    for name, path in got.items():
        assert path.read_bytes() == want[name].read_bytes(), f"{case}: {name} differs from the golden copy"
        assert os.access(path, os.X_OK) == os.access(want[name], os.X_OK), f"{case}: {name} mode differs"


def test_golden_cases_cover_pypi_git_minimal_a_command_and_an_api():
    assert set(CASES) == {"api", "command", "gitsvc", "minimal", "nova"}


@pytest.mark.parametrize("case", CASES)
def test_a_template_change_touches_exactly_the_packages_that_use_it(case, tmp_path):
    """A service's packaging digest covers the templates its tree changes with, and no other: a
    change to one rebuilds only the services that use it (the release page's, none)."""
    from venvdeb.service.build import packaging_digest
    from venvdeb.service.render import used_templates

    service = load_release(GOLDEN / case / "in" / "packaging", "2025.2").services[0]
    before = files(render_case(case, tmp_path / "before"))
    digest = packaging_digest(service)
    used = set(used_templates(service))
    names = sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.is_file())
    assert "buildbot/release.html.j2" in names and used < set(names)
    for n, name in enumerate(names):
        templates = tmp_path / f"templates-{n}"
        shutil.copytree(TEMPLATES, templates)
        with open(templates / name, "a") as changed:
            changed.write("# changed\n")
        after = files(render_case(case, tmp_path / f"after-{n}", templates=templates))
        differs = sorted(after) != sorted(before) or any(
            after[f].read_bytes() != before[f].read_bytes() for f in before)
        assert differs == (name in used), f"{case}: {name}"
        assert (packaging_digest(service, templates) != digest) == (name in used), f"{case}: {name}"
