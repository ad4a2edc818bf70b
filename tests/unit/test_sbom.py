"""The SBOM: licenses where the CycloneDX schema puts each kind, validated by cyclonedx-python-lib."""

from __future__ import annotations

import json

from venvdeb.model.manifest import WheelItem
from venvdeb.service.sbom import cyclonedx


def item(name: str, license: str) -> WheelItem:
    return WheelItem(name=name, version="1.0", file=f"{name}-1.0-py3-none-any.whl", sha256="ab" * 32,
                     size=1000, origin="index", license=license)


def test_ids_expressions_and_names_each_in_their_field():
    doc = json.loads(cyclonedx("venv-x", "1.0-deb12u1", [
        item("a", "MIT"), item("b", "MIT OR Apache-2.0"), item("c", "Apache Software License"),
        item("d", "apache-2.0")]))
    licenses = {c["name"]: c["licenses"] for c in doc["components"]}
    assert licenses == {"a": [{"license": {"id": "MIT"}}], "b": [{"expression": "MIT OR Apache-2.0"}],
                        "c": [{"license": {"name": "Apache Software License"}}], "d": [{"license": {"id": "Apache-2.0"}}]}


def test_the_same_closure_gives_the_same_document():
    closure = [item("b", "BSD-3-Clause"), item("a", "MIT")]
    assert cyclonedx("venv-x", "1", closure) == cyclonedx("venv-x", "1", list(reversed(closure)))
