"""What a wheel says about itself, read from a wheel made here."""

from __future__ import annotations

import zipfile
from pathlib import Path

from venvdeb.model.wheelmeta import describe

HEAD = "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n"


def wheel(tmp_path: Path, metadata: str, entry_points: str = "") -> Path:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("demo-1.0.dist-info/METADATA", (HEAD + metadata).encode())
        if entry_points:
            zf.writestr("demo-1.0.dist-info/entry_points.txt", entry_points)
    return path


def test_a_non_ascii_license_field_is_read_as_text(tmp_path):
    # The email parser returned a Header object here, and the wheelhouse build died on .strip().
    meta = describe(wheel(tmp_path, "License: Lizenz für Ärzte\nRequires-Dist: idna>=2.5\n"))
    assert meta["license"] == "Lizenz für Ärzte" and meta["requires"] == ["idna>=2.5"]


def test_license_expression_first_then_license_then_classifiers(tmp_path):
    assert describe(wheel(tmp_path, "License-Expression: MIT OR Apache-2.0\nLicense: MIT\n"))["license"] == \
        "MIT OR Apache-2.0"
    classifiers = "License: " + "long text " * 20 + "\nClassifier: License :: OSI Approved :: BSD License\n"
    assert describe(wheel(tmp_path, classifiers))["license"] == "BSD License"


def test_requirements_markers_kept_bad_lines_skipped_and_console_scripts(tmp_path):
    meta = describe(wheel(tmp_path, 'Requires-Dist: pbr!=2.1.0,>=2.0.0\nRequires-Dist: tomli; python_version < "3.11"\n'
                                    "Requires-Dist: not a requirement ((\n",
                          "[console_scripts]\nNova-API = nova.cmd:main\nnova-manage = nova.cmd:manage\n"))
    assert meta["requires"] == ["pbr!=2.1.0,>=2.0.0", 'tomli; python_version < "3.11"']
    assert meta["console_scripts"] == ["Nova-API", "nova-manage"]
