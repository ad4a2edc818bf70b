"""The package's layout holds: each stage imports only itself and the layers beneath every stage,
and pyproject.toml lists every package (with the data directories a plain install needs)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

from tests.conftest import PROJECT

SRC = PROJECT / "src" / "venvdeb"
# The layers every stage may use: the model, the Debian helpers, the environment, the errors, and
# small leaf utilities that import nothing of venvdeb but the errors.
SHARED = {"model", "deb", "environment", "errors", "files", "http", "progress", "resources"}
STAGES = {"wheelhouse", "service", "gates", "repository"}
# What the shared layers may use in turn: nothing above them. progress is a leaf (it imports
# nothing of venvdeb): the environment's and deb's long steps (mmdebstrap, dpkg-buildpackage) report through it.
BENEATH = {
    "model": {"model", "errors", "files"},
    "environment": {"environment", "errors", "progress"},
    "deb": {"environment", "errors", "files", "progress"},
    "errors": set(), "files": {"errors"}, "progress": set(), "resources": set(),
    "http": {"errors", "__init__"},
}


def top_level(name: str) -> str:
    """A name imported from venvdeb itself: one of its modules or packages, else the package's own
    namespace (``__version__``)."""
    return name if (SRC / name).is_dir() or (SRC / f"{name}.py").is_file() else "__init__"


def venvdeb_imports(path: Path, text: str | None = None) -> set[str]:
    """The top-level part of venvdeb each import of ``path`` names (model, wheelhouse, ...)."""
    package = path.relative_to(SRC.parent).parts[:-1]  # ("venvdeb", "service") for service/build.py
    found = set()
    for node in ast.walk(ast.parse(path.read_text() if text is None else text)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                parts = [*base[1:], *(node.module.split(".") if node.module else [])]
            elif node.module and node.module.split(".")[0] == "venvdeb":
                parts = node.module.split(".")[1:]
            else:
                continue
            # `from .. import deb, __version__` names its modules in the aliases.
            found |= {top_level(parts[0])} if parts else {top_level(a.name) for a in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("venvdeb."):
                    found.add(alias.name.split(".")[1])
    return found


def owner(path: Path) -> str:
    rel = path.relative_to(SRC).parts
    return rel[0] if len(rel) > 1 else path.stem


def test_a_stage_imports_only_itself_and_the_shared_layers():
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        where = owner(path)
        allowed = ({where} | SHARED) if where in STAGES else BENEATH.get(where)
        if allowed is None:
            continue  # the orchestrators: cli, pipeline, buildbot, __main__
        for name in sorted(venvdeb_imports(path) - allowed - {"__init__"}):
            wrong.append(f"{path.relative_to(SRC)} imports venvdeb.{name}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_relative_and_absolute_imports():
    # The check above is only as good as the import reader: it must see every spelling.
    module = SRC / "service" / "build.py"
    assert venvdeb_imports(module, "from ..wheelhouse.cache import Cache\n") == {"wheelhouse"}
    assert venvdeb_imports(module, "from .. import deb, __version__\n") == {"deb", "__init__"}
    assert venvdeb_imports(module, "from .render import render\n") == {"service"}
    assert venvdeb_imports(module, "import venvdeb.gates.smoke\nfrom venvdeb.repository import KEYRING\n") == \
        {"gates", "repository"}
    assert {"deb", "environment", "model", "service"} <= venvdeb_imports(module)


def test_pyproject_lists_every_package_and_the_data_directories():
    config = tomllib.loads((PROJECT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(SRC.parent).parts) for p in SRC.rglob("__init__.py")}
    data = {"venvdeb.templates": "templates", "venvdeb.wheelhouse_builder": "wheelhouse-builder"}
    # Every directory of the data trees is declared (setuptools warns of one it finds undeclared).
    data_dirs = {".".join([package, *d.relative_to(PROJECT / directory).parts])
                 for package, directory in data.items() for d in [PROJECT / directory, *(PROJECT / directory).rglob("*")]
                 if d.is_dir()}
    assert set(config["packages"]) == on_disk | data_dirs
    for package, directory in data.items():
        assert config["package-dir"][package] == directory and (PROJECT / directory).is_dir()
        assert config["package-data"][package] == ["*"]
    # setuptools (80 on) refuses a key of package-data that is not a module's name: venvdeb's own
    # build (the release 'tools') would fail.
    assert all(part.isidentifier() for key in config["package-data"] for part in key.split("."))


def test_venvdebs_own_service_asks_for_what_pyproject_says_venvdeb_needs():
    """venv-venvdeb's lock pins the service file's requirements; the venv installs venvdeb's wheel,
    which asks for pyproject's: the two lists must be one, or the wheelhouse lacks a dependency."""
    from venvdeb.model import load_release

    declared = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    service = load_release(PROJECT / "packaging", "tools").service("venvdeb")
    assert list(service.requirements) == declared
    assert service.source.git == str(PROJECT.resolve())
