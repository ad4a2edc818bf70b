"""Before a lock or a wheelhouse: each service's version is on the index, for every distribution."""

from __future__ import annotations

from types import SimpleNamespace

from venvdeb.wheelhouse.service_versions import problems


def files(*entries):
    return [{"filename": name, "requires-python": python, "hashes": {"sha256": "0" * 64}} for name, python in entries]


INDEX = {
    "nova": files(("nova-34.0.0-py3-none-any.whl", ">=3.11"), ("nova-34.0.0.tar.gz", ">=3.11"),
                  ("nova-34.0.1-py3-none-any.whl", ">=3.11"), ("nova-34.1.0rc1-py3-none-any.whl", ">=3.11")),
    "django": files(("django-6.1.3-py3-none-any.whl", ">=3.12"), ("django-6.1.3.tar.gz", ">=3.12")),
}


def release(version, pypi="nova", distributions=("bookworm", "trixie"), series=None, overrides=()):
    source = SimpleNamespace(pypi=pypi, version=version, series=series)
    service = SimpleNamespace(name="svc", source=source, path=SimpleNamespace(name="svc.toml"))
    return SimpleNamespace(services=[service], distributions=distributions, index_url="https://pypi.org/simple",
                           python="/usr/bin/python3", constraints=SimpleNamespace(overrides=overrides))


def test_a_version_on_the_index_for_every_distribution_is_fine():
    assert problems(release("34.0.0"), INDEX.get) == []
    assert problems(release("34.0.*", series="34.0.*"), INDEX.get) == []


def test_a_service_version_that_does_not_exist_is_named_with_the_newest_ones():
    [said] = problems(release("34.0.9"), INDEX.get)
    assert said.startswith("key 'services.svc.version': https://pypi.org/simple has no release 34.0.9 of nova")
    assert "its newest: 34.1.0rc1, 34.0.1, 34.0.0" in said
    [said] = problems(release("35.0.*", series="35.0.*"), INDEX.get)
    assert "has no final release in the series 35.0.* of nova" in said


def test_a_project_the_index_does_not_have_is_named():
    [said] = problems(release("1.0", pypi="nosuch"), INDEX.get)
    assert "has no project nosuch (the service file's 'source.pypi', svc.toml)" in said


def test_a_version_whose_requires_python_excludes_one_distribution_names_it():
    [said] = problems(release("6.1.3", pypi="django"), INDEX.get)
    assert said == ("key 'services.svc.version': django 6.1.3 has Requires-Python >=3.12, which excludes bookworm's "
                    "/usr/bin/python3 (Python 3.11): pin a version that admits it, or remove bookworm from the "
                    "release's distributions")
    assert problems(release("6.1.3", pypi="django", distributions=("trixie",)), INDEX.get) == []


def test_a_git_service_is_not_looked_up():
    git = release("1.0", pypi=None)
    assert problems(git, lambda name: (_ for _ in ()).throw(AssertionError("looked up"))) == []


def test_an_override_whose_version_the_index_lacks_is_refused():
    from venvdeb.model.overrides import Override

    fine = release("34.0.0", overrides=(Override("Nova", "34.0.1", "a point release"),))
    assert problems(fine, INDEX.get) == []
    missing = release("34.0.0", overrides=(Override("Nova", "34.0.7", "why"), Override("nosuch", "1.0", "why")))
    assert problems(missing, INDEX.get) == [
        "key 'constraints.overrides.Nova.version': https://pypi.org/simple has no release 34.0.7 of Nova",
        "key 'constraints.overrides.nosuch.version': https://pypi.org/simple has no release 1.0 of nosuch"]
