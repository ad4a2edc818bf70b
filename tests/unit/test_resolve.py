"""The closure walk, with a fake index at the provider boundary."""

from packaging.requirements import Requirement
from packaging.version import Version

from venvdeb.model.closure import Artifact
from venvdeb.model.constraints import parse
from venvdeb.errors import ProviderFailure
from venvdeb.model.closure import Resolver, Root

from .test_constraints import ENV_311


class FakeIndex:
    """name -> version -> list of Requires-Dist strings."""

    def __init__(self, projects: dict[str, dict[str, list[str]]], broken: dict[str, ProviderFailure] = None):
        self.projects = projects
        self.broken = broken or {}
        self.asked_requirements = []

    def versions(self, name):
        return sorted((Version(v) for v in self.projects.get(name, {})), reverse=True)

    def artifact(self, name, version):
        if name in self.broken:
            raise self.broken[name]
        if version not in self.projects.get(name, {}):
            raise ProviderFailure("resolve", f"{name}=={version} does not exist")
        return Artifact(name, version, f"{name}-{version}-py3-none-any.whl", "https://x.invalid", "f" * 64, "wheel")

    def requirements(self, artifact):
        self.asked_requirements.append(artifact.name)
        return [Requirement(r) for r in self.projects[artifact.name][artifact.version]]


def resolve(index, constraints, roots, follow=True):
    pins = parse(constraints, "uc.txt").for_target(ENV_311)
    resolver = Resolver(pins, ENV_311, index, constraints_origin="uc.txt", jobs=4)
    return resolver.resolve([Root(Requirement(r), "service svc") for r in roots], follow=follow)


INDEX = {
    "svc": {"1.0": ["a>=1", "b; python_version<'3'", "c[fast]"]},
    "a": {"1.0": [], "2.0": ["d"]},
    "b": {"1.0": []},
    "c": {"1.0": ["e; extra == 'fast'", "f; extra == 'slow'"]},
    "d": {"1.0": []},
    "e": {"1.0": []},
    "f": {"1.0": []},
}
UC = "svc===1.0\na===2.0\nb===1.0\nc===1.0\nd===1.0\ne===1.0\nf===1.0\n"


def test_closure_follows_markers_and_extras():
    res = resolve(FakeIndex(INDEX), UC, ["svc==1.0"])
    assert res.failures == []
    assert sorted(res.nodes) == ["a", "c", "d", "e", "svc"]
    assert res.nodes["a"].version == "2.0"
    assert "svc 1.0" in res.nodes["a"].required_by


def test_extras_requested_later_are_followed():
    index = {**INDEX, "svc": {"1.0": ["c", "a"]}, "a": {"2.0": ["c[slow]"]}}
    res = resolve(FakeIndex(index), UC, ["svc==1.0"])
    assert "f" in res.nodes and "e" not in res.nodes


def test_pin_conflicting_with_a_requirement_names_both():
    index = {**INDEX, "svc": {"1.0": ["a>=3"]}}
    res = resolve(FakeIndex(index), UC, ["svc==1.0"])
    [failure] = res.failures
    assert failure.package == "a" and failure.phase == "conflict"
    assert "a==2.0 (uc.txt:2)" in failure.reason and "svc 1.0 requires a>=3" in failure.reason


def test_service_version_conflicting_with_the_constraints():
    res = resolve(FakeIndex(INDEX), "svc===0.9\n" + UC[len("svc===1.0\n"):], ["svc==1.0"])
    assert any(f.package == "svc" and "service svc requires svc==1.0" in f.reason for f in res.failures)


def test_unpinned_takes_the_newest_that_fits_and_is_reported():
    res = resolve(FakeIndex(INDEX), "svc===1.0\nc===1.0\ne===1.0\nd===1.0\n", ["svc==1.0"])
    assert res.nodes["a"].version == "2.0"
    assert res.unpinned == ["a"]


def test_every_failure_is_reported():
    broken = {"a": ProviderFailure("build", "compiler exploded", "needs gcc")}
    index = {**INDEX, "svc": {"1.0": ["a", "c", "g"]}}
    res = resolve(FakeIndex(index, broken), UC + "g===9.9\n", ["svc==1.0"])
    failed = {f.package: f for f in res.failures}
    assert set(failed) == {"a", "g"}
    assert failed["a"].hint == "needs gcc"
    assert "does not exist" in failed["g"].reason
    assert "c" in res.nodes and "e" not in res.nodes  # the rest resolved regardless


def test_lock_hash_mismatch_is_a_failure():
    res = resolve(FakeIndex(INDEX), "svc==1.0 --hash=sha256:" + "0" * 64 + "\n", ["svc==1.0"], follow=False)
    [failure] = res.failures
    assert failure.phase == "verify" and "does not list" in failure.reason


def test_all_pins_mode_does_not_read_metadata():
    index = FakeIndex(INDEX)
    res = resolve(index, UC, ["svc==1.0", "b==1.0"], follow=False)
    assert sorted(res.nodes) == ["b", "svc"]
    assert index.asked_requirements == []
