"""What a wheel says about itself: METADATA (requirements, license) and its console scripts.

METADATA is read with packaging.metadata (PyPA's reader of the core metadata): it decodes UTF-8
fields, where the email parser hands back Header objects for non-ASCII ones. Leniently, as pip
does: a wheel on PyPI with an odd field is still installable, so only the fields used here count.
"""

from __future__ import annotations

import configparser
import zipfile
from pathlib import Path

from packaging.metadata import RawMetadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement

from ..errors import ProviderFailure


def _dist_info_file(zf: zipfile.ZipFile, name: str) -> str | None:
    found = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith(f".dist-info/{name}")]
    return found[0] if len(found) == 1 else None


def metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        member = _dist_info_file(zf, "METADATA")
        if member is None:
            raise ProviderFailure("fetch", f"{path.name} has no single .dist-info/METADATA")
        return zf.read(member)


def _raw(data: bytes) -> RawMetadata:
    raw, _unparsed = parse_email(data)  # unparsed: fields packaging does not know or could not read
    return raw


def requires_dist(data: bytes) -> list[Requirement]:
    reqs = []
    for line in _raw(data).get("requires_dist") or []:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement:
            continue  # pip skips these too; an unparseable line cannot be honoured
    return reqs


def license_summary(data: bytes) -> str:
    """A one-line license: License-Expression, a short License field, or the classifiers."""
    raw = _raw(data)
    if raw.get("license_expression"):
        return raw["license_expression"].strip()
    text = (raw.get("license") or "").strip()
    if text and "\n" not in text and len(text) <= 60 and text.upper() != "UNKNOWN":
        return text
    classifiers = sorted({c.split("::")[-1].strip() for c in raw.get("classifiers") or []
                          if c.startswith("License ::") and c.count("::") >= 2})
    return ", ".join(classifiers) if classifiers else "see the wheel's .dist-info/METADATA"


def console_scripts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        member = _dist_info_file(zf, "entry_points.txt")
        if member is None:
            return []
        parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
        parser.optionxform = str  # script names are case-sensitive
        parser.read_string(zf.read(member).decode())
    return sorted(parser["console_scripts"]) if parser.has_section("console_scripts") else []


def describe(path: Path) -> dict:
    """The manifest fields a service build needs, read once when the wheelhouse is made."""
    data = metadata(path)
    return {
        "license": license_summary(data),
        "requires": [str(r) for r in requires_dist(data)],
        "console_scripts": console_scripts(path),
    }
