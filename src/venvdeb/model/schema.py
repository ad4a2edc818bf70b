"""A small strict schema checker for TOML tables.

The model must be validated before anything runs, and every problem must name the file and the
key. This collects *all* problems of a file, so one run shows everything there is to fix.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import ModelError

Check = Callable[[Any], str | None]

# The shapes of names the model accepts.
DEBIAN_PACKAGE = r"[a-z0-9][a-z0-9.+-]+"
SERVICE_NAME = r"[a-z0-9][a-z0-9-]*"
DISTRIBUTION = r"[a-z][a-z0-9-]*"
SUITE = r"[A-Za-z0-9][A-Za-z0-9._-]*"
PYPI_NAME = r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"


# A key without a default: absent means "not given" (a required key, or one whose absence the
# loader gives a meaning of its own, said in its doc).
NO_DEFAULT = object()


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    required: bool = False
    check: Check | None = None
    items: type | None = None  # element type of a list
    table: dict[str, "Key"] | None = None  # schema of a sub-table
    doc: str = ""  # what the key means, for the reference (docs/reference.md is generated from it)
    default: Any = NO_DEFAULT  # what the loader takes when the key is absent
    # A text that may span lines (a reason written as comment lines, a JSON body). Every other
    # string is one line without control characters: values land in units, gunicorn's settings
    # (Python), debian/control and command lines, where a newline starts a line of its own.
    lines: bool = False


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def control_character(value: str) -> str | None:
    """What is wrong with a one-line value that holds a control character, or None."""
    found = CONTROL.search(value)
    if not found:
        return None
    name = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}.get(found[0], f"U+{ord(found[0]):04X}")
    return f"{value!r} holds {name}: it must be one line, without control characters"


def get(data: dict, schema: dict[str, Key], key: str):
    """``data[key]``, or the schema's default for it: the one place a default is written."""
    return data.get(key, schema[key].default)


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "a boolean", list: "a list", dict: "a table"}


def _type_name(t) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x) for x in t)
    return _TYPE_NAMES.get(t, t.__name__)


def validate(data: dict, schema: dict[str, Key], prefix: str = "") -> list[str]:
    """Return every problem of ``data`` against ``schema`` as 'key 'a.b': message' strings."""
    problems: list[str] = []
    for key in sorted(set(data) - set(schema)):
        known = ", ".join(sorted(schema))
        problems.append(f"key '{prefix}{key}': unknown key (known keys: {known})")
    for key, spec in schema.items():
        where = f"key '{prefix}{key}'"
        if key not in data:
            if spec.required:
                problems.append(f"{where}: required but missing")
            continue
        value = data[key]
        # bool is an int in Python; a TOML `true` must not pass for a number.
        if not isinstance(value, spec.type) or (isinstance(value, bool) and spec.type is int):
            problems.append(f"{where}: expected {_type_name(spec.type)}, got {type(value).__name__}")
            continue
        if spec.items is not None:
            for i, item in enumerate(value):
                if not isinstance(item, spec.items):
                    problems.append(
                        f"{where}[{i}]: expected {_type_name(spec.items)}, got {type(item).__name__}"
                    )
        if not spec.lines:
            texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
                if isinstance(value, list) else []
            bad = next((m for m in map(control_character, texts) if m), None)
            if bad:
                problems.append(f"{where}: {bad}")
        if spec.table is not None:
            problems.extend(validate(value, spec.table, prefix=f"{prefix}{key}."))
        if spec.check is not None and not problems_for(where, problems):
            message = spec.check(value)
            if message:
                problems.append(f"{where}: {message}")
    return problems


def problems_for(where: str, problems: list[str]) -> bool:
    return any(p.startswith(where) for p in problems)


def matches(pattern: str, what: str) -> Check:
    rx = re.compile(pattern)

    def check(value):
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if not rx.fullmatch(v)]
        if bad:
            return f"{', '.join(repr(b) for b in bad)} is not {what}"
        return None

    return check


def non_empty(value) -> str | None:
    return "must not be empty" if len(value) == 0 else None


def unique(value) -> str | None:
    seen = set()
    dups = sorted({v for v in value if v in seen or seen.add(v)})
    return f"duplicates: {', '.join(dups)}" if dups else None


def all_of(*checks: Check) -> Check:
    def check(value):
        for c in checks:
            message = c(value)
            if message:
                return message
        return None

    return check


def load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ModelError(path, ["file not found"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(path, [f"malformed TOML: {exc}"]) from None
