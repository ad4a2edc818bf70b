"""Python versions mapped to Debian versions sort as PEP 440 sorts them, by dpkg's own judgement
(``dpkg --compare-versions``): every version in both default releases' constraints (their locks,
and upstream's upper-constraints when the shared fixtures are there), and versions generated around
each of their releases: dev, pre, post, local, and combinations."""

from __future__ import annotations

import random
import re
import subprocess
from itertools import groupby

import pytest
from packaging.version import InvalidVersion, Version

from tests.conftest import PROJECT
from venvdeb.model.versions import debian_upstream

PIN = re.compile(r"^[A-Za-z0-9._-]+(?:\[[^\]]*\])?===?([^\s;#\\]+)", re.M)
UPPER = PROJECT.parent / "shared" / "fixtures" / "openstack-requirements"


def constraint_versions() -> set[str]:
    texts = [p.read_text() for p in sorted((PROJECT / "packaging" / "locks").glob("*.txt"))]
    texts += [p.read_text() for p in sorted(UPPER.glob("stable-*/upper-constraints.txt"))]
    found = set()
    for text in texts:
        for version in PIN.findall(text):
            try:
                Version(version)
            except InvalidVersion:
                continue
            found.add(version)
    return found


def around(release: tuple[int, ...], rng: random.Random) -> list[str]:
    """Versions one project might publish around ``release``, all with its number of components."""
    r = ".".join(map(str, release))
    n = lambda: rng.randint(0, 12)  # noqa: E731
    pre = rng.choice(["a", "b", "rc"])
    following = ".".join(map(str, release[:-1] + (release[-1] + 1,)))
    return [f"{r}.dev{n()}", f"{r}{pre}{n()}.dev{n()}", f"{r}a{n()}", f"{r}b{n()}", f"{r}rc{n()}",
            f"{r}{pre}{n()}.post{n()}", f"{r}{pre}{n()}.post{n()}.dev{n()}", r, f"{r}+local.{n()}",
            f"{r}.post{n()}.dev{n()}", f"{r}.post{n()}", f"{r}.post{n()}+ubuntu{n()}", f"{following}.dev{n()}",
            following, f"{rng.randint(1, 3)}!{r}"]


def dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


def assert_sorted_alike(versions: set[str]) -> int:
    """Sort by PEP 440, then ask dpkg about every neighbouring pair of one number of components;
    by transitivity that is the whole order. Returns the number of pairs asked about."""
    asked = 0
    by_length = lambda v: (Version(v).epoch, len(Version(v).release))  # noqa: E731
    for _, group in groupby(sorted(versions, key=by_length), key=by_length):
        ordered = sorted(set(group), key=Version)
        for a, b in zip(ordered, ordered[1:], strict=False):
            if Version(a) == Version(b):  # 1.0 and 1.00: the same version
                assert debian_upstream(a) == debian_upstream(b)
                continue
            assert dpkg_lt(debian_upstream(a), debian_upstream(b)), (a, b, debian_upstream(a), debian_upstream(b))
            asked += 1
    return asked


def test_every_constraint_version_sorts_as_pep_440_does():
    versions = constraint_versions()
    assert len(versions) > 300  # the locks alone hold a few hundred
    assert assert_sorted_alike(versions) > 250


def test_generated_versions_around_the_constraints_sort_as_pep_440_does():
    rng = random.Random(440)
    releases = sorted({Version(v).release for v in constraint_versions()})
    asked = 0
    for release in rng.sample(releases, 60):
        asked += assert_sorted_alike(set(around(release, rng)))
    assert asked > 60 * 12


@pytest.mark.parametrize("older, newer", [
    ("1.0.dev1", "1.0a1"), ("1.0a1.dev1", "1.0a1"), ("1.0rc1", "1.0"), ("1.0", "1.0+local"),
    ("1.0+local", "1.0.post1"), ("1.0.post1", "1.0.1"), ("1.0.post1.dev1", "1.0.post1"), ("1.0rc1.post1", "1.0rc2"),
    ("9!0.1", "10!0.0"),
])
def test_the_cases_the_old_mapping_got_wrong_or_that_matter_most(older, newer):
    assert Version(older) < Version(newer)
    assert dpkg_lt(debian_upstream(older), debian_upstream(newer))


def test_a_change_in_the_number_of_components_is_where_the_orders_part():
    """Documented, not hidden: dpkg does not pad with zeros. next_version refuses such a build."""
    assert Version("1.0.0rc1") < Version("1.0")
    assert not dpkg_lt(debian_upstream("1.0.0rc1"), debian_upstream("1.0"))


def test_a_version_spelled_by_the_earlier_mapping_is_named_when_it_blocks_the_next_build():
    """pbr's 1.0.1.dev2 was built as 1.0.1~dev2 before; the next, 1.0.1.dev3, is 1.0.1~~dev3 now,
    which dpkg sorts lower: the build is refused, and says why and what to do."""
    from venvdeb.errors import VenvdebError
    from venvdeb.model.versions import next_version, python_of

    assert python_of("1.0.1~dev2") == python_of("1.0.1~~dev2") == Version("1.0.1.dev2")
    assert python_of("2.0.post1") == python_of("2.0+post1") == Version("2.0.post1")
    assert python_of("1:2.0~rc1") == Version("1!2.0rc1")
    with pytest.raises(VenvdebError) as exc:
        next_version(debian_upstream("1.0.1.dev3"), "1.0.1~dev2-deb12u1", "services/gitsvc.toml", 12)
    assert "spelled the way an earlier venvdeb did" in str(exc.value) and "epoch" in exc.value.hint
    with pytest.raises(VenvdebError) as exc:  # really older: the plain refusal
        next_version(debian_upstream("1.0.0"), "1.0.1~dev2-deb12u1", "services/gitsvc.toml", 12)
    assert "would go backwards" in str(exc.value)


def test_a_version_given_to_a_build_must_be_of_the_upstream_version_it_builds():
    from types import SimpleNamespace

    from venvdeb.errors import VenvdebError
    from venvdeb.service.build import given_version

    svc = SimpleNamespace(name="nova")
    assert given_version("33.0.2-deb12u4", "33.0.2", svc) == "33.0.2-deb12u4"
    with pytest.raises(VenvdebError, match="version 33.0.2-deb12u4 is not a build of nova 33.0.3"):
        given_version("33.0.2-deb12u4", "33.0.3", svc)
