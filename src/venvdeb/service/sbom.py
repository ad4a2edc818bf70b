"""A CycloneDX SBOM of a service's venv: each bundled distribution, its version and sha256.

Nothing in it varies between builds of the same content: no timestamp, and a serial number
derived from the content itself. Each license goes where the schema says: an SPDX identifier as
an id, an SPDX expression (``MIT OR Apache-2.0``) as an expression, anything else by name; and
the document is validated against the CycloneDX 1.5 schema (cyclonedx-python-lib's) before it is
written.
"""

from __future__ import annotations

import functools
import json
import uuid

from cyclonedx import spdx

from .. import __version__
from ..errors import VenvdebError
from ..model.manifest import WheelItem

NAMESPACE = uuid.UUID("6f0c4a36-5b1e-4c8e-9a57-0d3c1f1b9e21")  # venvdeb's, for uuid5


@functools.cache
def validator():
    """CycloneDX 1.5's strict JSON validator. Importing it takes 0.8 s (jsonschema's IRI format
    checker builds its grammar at import), so it is imported when first needed, not by every
    venvdeb command; a build warms it while its chroot is made (see service/build.py)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_5)


def purl(name: str, version: str) -> str:
    return f"pkg:pypi/{name}@{version}"


def license_choice(text: str) -> dict:
    """One entry of a component's ``licenses``, in the form the schema gives that kind of text."""
    spdx_id = spdx.fixup_id(text)  # an SPDX identifier, whatever its case; else None
    if spdx_id:
        return {"license": {"id": spdx_id}}
    if spdx.is_expression(text) and any(f" {op} " in f" {text} " for op in ("AND", "OR", "WITH")):
        return {"expression": text}
    return {"license": {"name": text}}


def cyclonedx(package: str, version: str, closure: list[WheelItem]) -> str:
    components = [
        {
            "type": "library",
            "bom-ref": purl(w.name, w.version),
            "name": w.name,
            "version": w.version,
            "purl": purl(w.name, w.version),
            "hashes": [{"alg": "SHA-256", "content": w.sha256}],
            "licenses": [license_choice(w.license)],
            "properties": [{"name": "venvdeb:wheel", "value": w.file},
                           {"name": "venvdeb:origin", "value": w.origin}],
        }
        for w in sorted(closure, key=lambda w: w.name)
    ]
    body = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": {"type": "application", "bom-ref": f"deb:{package}@{version}", "name": package,
                          "version": version},
            "tools": {"components": [{"type": "application", "name": "venvdeb", "version": __version__}]},
        },
        "components": components,
    }
    serial = uuid.uuid5(NAMESPACE, json.dumps(body, sort_keys=True))
    text = json.dumps({"serialNumber": f"urn:uuid:{serial}", **body}, indent=1, sort_keys=True) + "\n"
    error = validator().validate_str(text)
    if error is not None:
        raise VenvdebError(f"{package} {version}: the SBOM does not validate against CycloneDX 1.5: {error}")
    return text
