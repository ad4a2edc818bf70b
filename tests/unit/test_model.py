from pathlib import Path

import pytest

from venvdeb.errors import ModelError
from venvdeb.model import load_release, load_service
from tests.conftest import PROJECT, write


def test_embedded_default_release_loads():
    release = load_release(PROJECT / "packaging", "2025.2")
    assert [s.name for s in release.services] == ["nova", "glance", "keystone"]
    assert release.distribution == "bookworm"
    assert release.constraints.kind == "lock"
    assert release.python == "/usr/bin/python3"
    assert release.staging_suite == "bookworm-2025.2-staging"
    nova = release.service("nova")
    assert nova.source.pypi == "nova" and nova.source.version.startswith("32.")
    assert release.service("glance").source.version.startswith("31.")
    assert release.service("keystone").source.version.startswith("28.")
    assert "nova-manage" in nova.console_scripts
    assert str(nova.root_requirements()[0]) == "nova==32.2.1"


def test_malformed_toml_names_the_file(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    bad = root / "releases" / "t1.toml"
    bad.write_text(bad.read_text() + "\nthis is = = not toml\n")
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert str(bad) in str(exc.value)
    assert "malformed TOML" in str(exc.value)


def test_unknown_keys_are_rejected_with_their_full_name(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")},
                     release_extra='colour = "blue"\n')
    path = root / "releases" / "t1.toml"
    path.write_text(path.read_text().replace('kind = "upper-constraints"', 'kind = "upper-constraints"\nfrobnicate = 1'))
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    problems = exc.value.problems
    assert any("key 'colour': unknown key" in p for p in problems)
    assert any("key 'constraints.frobnicate': unknown key" in p for p in problems)
    assert exc.value.path == str(path)


def test_unknown_key_in_a_service(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, service_extra='frobs = ["x"]\n')
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert exc.value.path.endswith("services/svc.toml")
    assert any("key 'frobs': unknown key" in p for p in exc.value.problems)


def test_missing_service_file(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    (root / "services" / "svc.toml").unlink()
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert "services/svc.toml" in str(exc.value)
    assert "service file not found" in str(exc.value)


def test_missing_release_lists_known_ones(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    with pytest.raises(ModelError) as exc:
        load_release(root, "nope")
    assert "known releases: t1" in str(exc.value)


def test_wrong_types_and_bad_values_are_all_reported(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    path = root / "releases" / "t1.toml"
    text = path.read_text().replace('distribution = "bookworm"', "distribution = 12")
    text = text.replace('wheelhouse_package = "test-wheelhouse-t1"', 'wheelhouse_package = "Not A Package"')
    path.write_text(text)
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert any("key 'distribution': expected a string, got int" in p for p in exc.value.problems)
    assert any("key 'wheelhouse_package'" in p and "not a Debian package name" in p for p in exc.value.problems)


def test_service_source_must_be_pypi_or_git(tmp_path: Path):
    write(tmp_path / "services" / "x.toml", """
        name = "x"
        summary = "x"
        console_scripts = ["x"]
        smoke_commands = ["x --version"]
        [source]
        pypi = "x"
        git = "https://example.invalid/x.git"
    """)
    with pytest.raises(ModelError) as exc:
        load_service(tmp_path, "x")
    assert any("not both" in p for p in exc.value.problems)


def test_pypi_source_needs_a_pinned_version(tmp_path: Path):
    write(tmp_path / "services" / "x.toml", """
        name = "x"
        summary = "x"
        console_scripts = ["x"]
        smoke_commands = ["x --version"]
        [source]
        pypi = "x"
    """)
    with pytest.raises(ModelError) as exc:
        load_service(tmp_path, "x")
    assert any("key 'source.version': required" in p for p in exc.value.problems)


def test_git_source_loads(tmp_path: Path):
    write(tmp_path / "services" / "x.toml", """
        name = "x"
        summary = "x"
        console_scripts = ["x"]
        smoke_commands = ["x --version"]
        requirements = ["six>=1.10"]
        [source]
        git = "https://opendev.org/openstack/x"
        branch = "stable/2025.2"
    """)
    service = load_service(tmp_path, "x")
    assert service.source.branch == "stable/2025.2"
    assert [str(r) for r in service.root_requirements()] == ["six>=1.10"]


def test_invalid_requirement_in_service(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, service_extra='requirements = ["six >>> 1"]\n')
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert any("key 'requirements'" in p and "not a valid requirement" in p for p in exc.value.problems)


def test_lock_needs_requirements_in(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    path = root / "releases" / "t1.toml"
    path.write_text(path.read_text().replace('kind = "upper-constraints"', 'kind = "lock"'))
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert any("key 'constraints.requirements_in': required" in p for p in exc.value.problems)
