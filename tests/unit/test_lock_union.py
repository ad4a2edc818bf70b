"""One lock for every distribution of a release: the union of what each interpreter needs."""

from __future__ import annotations

import pytest

from venvdeb.errors import VenvdebError
from venvdeb.wheelhouse.lock import entries, union

BOOKWORM = """\
oslo-config==10.0.0 \\
    --hash=sha256:aaaa  # via nova
webob==1.8.9 \\
    --hash=sha256:bbbb  # via nova
"""

TRIXIE = """\
legacy-cgi==2.6.4 \\
    --hash=sha256:cccc  # via webob
oslo-config==10.0.0 \\
    --hash=sha256:aaaa  # via nova
webob==1.8.9 \\
    --hash=sha256:bbbb  # via nova
"""


def test_entries_keep_each_pins_lines_by_canonical_name():
    found = entries("Oslo.Config==10.0.0 \\\n    --hash=sha256:aaaa  # via nova\n")
    assert found == {"oslo-config": "Oslo.Config==10.0.0 \\\n    --hash=sha256:aaaa  # via nova\n"}


def test_union_adds_what_only_the_other_interpreter_needs_in_order():
    merged = union(BOOKWORM, TRIXIE, "bookworm", "trixie")
    assert list(entries(merged)) == ["legacy-cgi", "oslo-config", "webob"]
    assert merged == TRIXIE  # both pins agree: the union is trixie's lock, bookworm's pins kept
    # A name only the first interpreter needs stays too.
    only_legacy = "legacy-cgi==2.6.4 \\\n    --hash=sha256:cccc  # via webob\n"
    assert list(entries(union(BOOKWORM, only_legacy, "bookworm", "trixie"))) == ["legacy-cgi", "oslo-config", "webob"]


def test_the_same_package_at_two_versions_is_refused():
    with pytest.raises(VenvdebError) as info:
        union(BOOKWORM, TRIXIE.replace("webob==1.8.9", "webob==1.9.0"), "bookworm", "trixie")
    assert "webob: 1.8.9 for bookworm, 1.9.0 for trixie" in str(info.value)
