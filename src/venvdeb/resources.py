"""Where venvdeb's data directories are: templates/ (a service package's debian/) and
wheelhouse-builder/ (the wheelhouse package's skeleton).

They live at the top of the project, where a release engineer looks for them. pyproject.toml
maps them into the package (``venvdeb/templates``, ``venvdeb/wheelhouse_builder``: a package's name
is a Python identifier) when a wheel is built, so an installed venvdeb finds them beside its
modules; an editable install or a checkout finds them at the project's top.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    installed = PACKAGE / name.replace("-", "_")
    if installed.is_dir():
        return installed
    checkout = PACKAGE.parents[1] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"venvdeb's {name}/ is neither in {PACKAGE} nor in {PACKAGE.parents[1]}: "
                            "reinstall venvdeb (pip install .)")


def templates() -> Path:
    return data_dir("templates")


def wheelhouse_builder() -> Path:
    return data_dir("wheelhouse-builder")
