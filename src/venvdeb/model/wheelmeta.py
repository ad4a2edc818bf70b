"""What a wheel says about itself: METADATA (requirements, license) and its console scripts."""

from __future__ import annotations

import configparser
import zipfile
from email.parser import BytesParser
from pathlib import Path

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


def requires_dist(data: bytes) -> list[Requirement]:
    reqs = []
    for line in BytesParser().parsebytes(data).get_all("Requires-Dist") or []:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement:
            continue  # pip skips these too; an unparseable line cannot be honoured
    return reqs


def license_summary(data: bytes) -> str:
    """A one-line license: License-Expression, a short License field, or the classifiers."""
    msg = BytesParser().parsebytes(data)
    if msg.get("License-Expression"):
        return msg["License-Expression"].strip()
    text = (msg.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60 and text.upper() != "UNKNOWN":
        return text
    classifiers = sorted({c.split("::")[-1].strip() for c in msg.get_all("Classifier") or []
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
