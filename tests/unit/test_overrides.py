"""Constraint overrides: a release moves single pins of its constraints, each with a reason."""

from __future__ import annotations

import pytest

from venvdeb.errors import ModelError, VenvdebError
from venvdeb.model import load_release
from venvdeb.model import overrides
from venvdeb.model.constraints import parse
from venvdeb.model.overrides import Override

UPSTREAM = "keystoneauth1===5.15.0\noslo.versionedobjects===3.11.0\nsix===1.16.0;python_version=='3.11'\nsix===1.17.0;python_version>='3.12'\n"
KSA = Override("keystoneauth1", "5.16.0", "nova 34.0.0 requires keystoneauth1>=5.16.0")


def override_table(name="keystoneauth1", **entry):
    body = "".join(f'{k} = "{v}"\n' for k, v in entry.items())
    return f'\n[constraints.overrides.{name}]\n{body}'


def release_with(make_root, table: str):
    root = make_root(UPSTREAM, {"svc": ("six", "1.17.0")})
    path = root / "releases" / "t1.toml"
    text = path.read_text().replace("\n[suites]", table + "\n[suites]")
    path.write_text(text)
    return root


def test_a_release_loads_its_overrides_with_their_reasons(make_root):
    root = release_with(make_root, override_table(version="5.16.0", reason="needed by nova 34.0.0"))
    release = load_release(root, "t1")
    assert release.constraints.overrides == (Override("keystoneauth1", "5.16.0", "needed by nova 34.0.0"),)


@pytest.mark.parametrize("entry, said", [
    ({"version": "5.16.0"}, "key 'constraints.overrides.keystoneauth1.reason': required"),
    ({"version": "5.16.0", "reason": " "}, "key 'constraints.overrides.keystoneauth1.reason': must not be empty: say why"),
    ({"reason": "why"}, "key 'constraints.overrides.keystoneauth1.version': required but missing"),
    ({"version": "five", "reason": "why"}, "key 'constraints.overrides.keystoneauth1.version': 'five' is not a Python version"),
    ({"version": "5.16.0", "reason": "why", "because": "x"}, "key 'constraints.overrides.keystoneauth1.because': unknown key"),
])
def test_an_override_without_a_reason_or_a_version_is_refused(make_root, entry, said):
    root = release_with(make_root, override_table(**entry))
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert str(root / "releases" / "t1.toml") in str(exc.value)
    assert said in str(exc.value)


def test_an_override_moves_one_pin_of_the_constraints_and_nothing_else():
    cons = parse(UPSTREAM, "upper-constraints.txt")
    pins = overrides.apply(cons, [KSA], "r.toml", {"python_version": "3.11"})
    assert pins["keystoneauth1"].version == "5.16.0"
    assert pins["oslo-versionedobjects"].version == "3.11.0" and pins["six"].version == "1.16.0"


def test_an_override_of_a_package_the_constraints_do_not_pin_is_refused():
    cons = parse(UPSTREAM, "upper-constraints.txt")
    with pytest.raises(VenvdebError) as exc:
        overrides.apply(cons, [Override("nosuch", "1.0", "why")], "r.toml")
    assert "r.toml: key 'constraints.overrides.nosuch': upper-constraints.txt does not pin nosuch" in exc.value.message
    assert "requirements" in exc.value.hint


def test_what_pip_compile_is_given_moves_every_line_of_the_package_and_keeps_its_markers():
    cons = parse(UPSTREAM, "upper-constraints.txt")
    text = overrides.rewrite(UPSTREAM, cons, [Override("six", "1.17.0", "security fix")], "r.toml")
    assert text.splitlines() == ["keystoneauth1===5.15.0", "oslo.versionedobjects===3.11.0",
                                 "six===1.17.0;python_version == \"3.11\"", "six===1.17.0;python_version >= \"3.12\""]
    moved = parse(text, "x")
    assert {p.version for p in moved.pins if p.name == "six"} == {"1.17.0"}


def test_an_override_upstream_has_caught_up_with_is_reported_as_redundant():
    py311 = {"python_version": "3.11"}
    caught_up = parse(UPSTREAM.replace("5.15.0", "5.16.0"), "uc")
    assert overrides.redundant(caught_up, [KSA], py311) == [KSA]
    assert overrides.redundant(parse(UPSTREAM, "uc"), [KSA], py311) == []
    # Per interpreter: six 1.17.0 is upstream's pin for 3.12 and later only.
    six = Override("six", "1.17.0", "security fix")
    assert overrides.redundant(parse(UPSTREAM, "uc"), [six], py311) == []
    assert overrides.redundant(parse(UPSTREAM, "uc"), [six], {"python_version": "3.13"}) == [six]


def test_a_lock_pin_the_overrides_forbid_is_refused_with_its_line():
    lock = parse("keystoneauth1==5.15.0 \\\n    --hash=sha256:" + "a" * 64 + "\nsix==1.17.0\n", "locks/2026.2.txt")
    with pytest.raises(VenvdebError) as exc:
        overrides.check_lock(lock, [KSA], "releases/2026.2.toml")
    assert exc.value.message.startswith("locks/2026.2.txt: keystoneauth1: the lock pins 5.15.0 (line 1), but "
                                        "releases/2026.2.toml overrides it to 5.16.0")
    assert "venvdeb lock" in exc.value.hint
    overrides.check_lock(parse("keystoneauth1==5.16.0\n", "lock"), [KSA], "r.toml")  # holds it: fine
