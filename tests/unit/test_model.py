from pathlib import Path

import pytest

from venvdeb.errors import ModelError
from venvdeb.model import load_release, load_service
from tests.conftest import PROJECT, write


def test_embedded_default_release_loads():
    release = load_release(PROJECT / "packaging", "2025.2")
    assert [s.name for s in release.services] == ["nova", "glance", "keystone", "placement", "neutron", "cinder",
                                                   "horizon", "openstackclient"]
    assert release.distributions == ("bookworm", "trixie")
    assert release.constraints.kind == "lock"
    assert release.python == "/usr/bin/python3"
    assert release.at("bookworm").staging_suite == "bookworm-2025.2-staging"
    nova = release.service("nova")
    assert nova.source.pypi == "nova" and nova.source.version.startswith("32.")
    assert release.service("glance").source.version.startswith("31.")
    assert release.service("keystone").source.version.startswith("28.")
    assert "nova-manage" in nova.console_scripts
    assert str(nova.root_requirements()[0]) == "nova==32.2.1"


def test_one_packaging_root_holds_several_releases_and_their_service_versions():
    old, new, current = (load_release(PROJECT / "packaging", name) for name in ("2025.2", "2026.1", "2026.2"))
    assert {s.name: s.source.version for s in old.services} == {
        "nova": "32.2.1", "glance": "31.1.0", "keystone": "28.1.0", "placement": "14.0.0", "neutron": "27.0.4",
        "cinder": "27.0.0", "horizon": "25.5.2", "openstackclient": "8.2.0"}
    assert {s.name: s.source.version for s in new.services} == {
        "nova": "33.0.*", "glance": "32.0.0", "keystone": "29.1.0", "placement": "15.0.0", "neutron": "28.0.2",
        "cinder": "28.0.0", "horizon": "25.7.3", "openstackclient": "9.0.0"}
    assert {s.name: s.source.version for s in current.services} == {
        "nova": "34.0.*", "glance": "33.0.0", "keystone": "30.0.0", "placement": "16.0.0", "neutron": "29.0.0",
        "cinder": "29.0.0", "horizon": "27.0.0", "openstackclient": "10.2.1"}
    assert {o.name for o in current.constraints.overrides} == {"keystoneauth1", "oslo.versionedobjects", "horizon"}
    assert all(o.reason for o in current.constraints.overrides)
    assert current.distributions == ("bookworm", "trixie")
    # One service file: what does not change between releases.
    assert old.service("nova").path == new.service("nova").path
    assert old.service("nova").console_scripts == new.service("nova").console_scripts
    assert str(new.service("nova").root_requirements()[0]) == "nova==33.0.*" and new.service("nova").source.series
    assert new.wheelhouse_package == "openstack-wheelhouse-2026.1" and new.at("bookworm").staging_suite == "bookworm-2026.1-staging"


def release_with_table(make_root, table: str, service_source: str):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    release = root / "releases" / "t1.toml"
    release.write_text(release.read_text().replace('services = ["svc"]\n', "") + "\n" + table)
    service = root / "services" / "svc.toml"
    text = service.read_text()
    service.write_text(text[:text.index("[source]")] + service_source + text[text.index("[source]") + len(
        '[source]\npypi = "six"\nversion = "1.17.0"\n'):])
    return root, release, service


def test_a_release_names_the_version_of_a_service_whose_file_does_not(make_root):
    root, release, service = release_with_table(make_root, '[services.svc]\nversion = "1.16.0"\n',
                                                '[source]\npypi = "six"\n')
    loaded = load_release(root, "t1")
    assert loaded.service("svc").source.version == "1.16.0" and loaded.service("svc").source.pypi == "six"


def test_a_release_may_have_a_service_follow_a_stable_series(make_root):
    root, release, service = release_with_table(make_root, '[services.svc]\nversion = "1.16.*"\n',
                                                '[source]\npypi = "six"\n')
    svc = load_release(root, "t1").service("svc")
    assert svc.source.series == "1.16.*" and str(svc.root_requirements()[0]) == "six==1.16.*"
    pinned = release_with_table(make_root, '[services.svc]\nversion = "1.16.0"\n', '[source]\npypi = "six"\n')
    assert load_release(pinned[0], "t1").service("svc").source.series is None  # a pin stays a pin


@pytest.mark.parametrize("series", ["1.*.0", "1.16.*rc1", "*", "1.16.x", "1.16.**"])
def test_a_series_is_leading_numbers_then_a_star(make_root, series):
    root, release, service = release_with_table(make_root, f'[services.svc]\nversion = "{series}"\n',
                                                '[source]\npypi = "six"\n')
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert exc.value.path == str(release)
    assert exc.value.problems == [f"key 'services.svc.version': {series!r} is neither a Python version (a pin, "
                                  "e.g. '33.0.2') nor a series (the leading numbers of a release, then '.*', "
                                  "e.g. '33.0.*')"]


def test_a_release_that_does_not_name_the_version_is_told_where(make_root):
    root, release, service = release_with_table(make_root, "[services.svc]\n", '[source]\npypi = "six"\n')
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert exc.value.path == str(release)
    assert exc.value.problems == ["key 'services.svc.version': required with 'source.pypi' = 'six' "
                                  "(from svc.toml) (pin the service's version)"]


def test_a_release_may_take_a_service_from_git_instead(make_root):
    root, release, service = release_with_table(
        make_root, '[services.svc]\ngit = "https://opendev.org/x/svc"\nbranch = "stable/2026.1"\n',
        '[source]\npypi = "six"\n')
    source = load_release(root, "t1").service("svc").source
    assert (source.git, source.branch, source.pypi, source.version) == (
        "https://opendev.org/x/svc", "stable/2026.1", None, None)


@pytest.mark.parametrize("given, kept", [
    ("https://opendev.org/x/svc", True), ("file:///srv/git/svc", True), ("git@example.org:x/svc", True),
    ("/srv/git/svc", True), ("..", False), ("../upstream/svc", False),
])
def test_a_git_source_that_is_no_url_is_a_path_from_the_packaging_root(make_root, given, kept):
    root, release, service = release_with_table(
        make_root, f'[services.svc]\ngit = "{given}"\nbranch = "main"\n', '[source]\npypi = "six"\n')
    source = load_release(root, "t1").service("svc").source
    assert source.git == (given if kept else str((Path(root) / given).resolve()))


def test_what_a_package_is_made_from_names_a_repository_as_the_packaging_says_it(make_root, tmp_path):
    """The same packaging at two places (the master's checkout, a worker's) is the same input."""
    import shutil

    from venvdeb.service.build import packaging_digest

    root, release, service = release_with_table(
        make_root, '[services.svc]\ngit = ".."\nbranch = "main"\n', '[source]\npypi = "six"\n')
    elsewhere = tmp_path / "worker" / "checkout" / "packaging"
    shutil.copytree(root, elsewhere)
    here, there = (load_release(r, "t1").service("svc") for r in (root, elsewhere))
    assert here.source.git != there.source.git and here.source.written == there.source.written == ".."
    assert packaging_digest(here) == packaging_digest(there)


def test_what_a_release_says_of_a_service_is_checked_too(make_root):
    root, release, service = release_with_table(
        make_root, '[services.svc]\nversion = "not a version"\ncolour = "blue"\n', '[source]\npypi = "six"\n')
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert exc.value.path == str(release)
    assert any("key 'services.svc.colour': unknown key" in p for p in exc.value.problems)
    assert any("key 'services.svc.version': 'not a version' is neither a Python version" in p
               for p in exc.value.problems)


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


def test_a_release_at_each_of_its_distributions():
    release = load_release(PROJECT / "packaging", "2026.1")
    assert release.distributions == ("bookworm", "trixie")
    # A release is not a point: code that forgets to ask for one fails, rather than building the first.
    assert not hasattr(release, "distribution") and not hasattr(release, "staging_suite")
    trixie = release.at("trixie")
    assert (trixie.distribution, trixie.staging_suite, trixie.production_suite, trixie.debian) == (
        "trixie", "trixie-2026.1-staging", "trixie-2026.1", 13)
    assert [p.distribution for p in release.points()] == ["bookworm", "trixie"]
    assert [p.distribution for p in release.points("trixie")] == ["trixie"]
    with pytest.raises(ModelError) as info:
        release.at("forky")
    assert "key 'distributions': 'forky' is not one of this release's (bookworm, trixie)" in str(info.value)


def test_the_distribution_a_version_was_built_for(make_root):
    release = load_release(PROJECT / "packaging", "2026.1")
    assert release.built_for("33.0.2-deb13u4") == "trixie" and release.built_for("3+deb12") == "bookworm"
    assert release.built_for("33.0.2-1") is None  # unmarked, in a release of two: cannot be told
    assert release.point_of("1:33.0.2~rc1-deb12u2").staging_suite == "bookworm-2026.1-staging"
    with pytest.raises(ModelError):
        release.point_of("33.0.2-1")
    single = load_release(make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}), "t1")
    assert single.built_for("3.4.2-1") == "bookworm"  # built before versions were marked
    # Another distribution's mark is not this release's, though it has only one.
    assert single.built_for("3.4.2-deb13u1") is None and single.built_for("3+deb13") is None


def test_suites_of_several_distributions_name_each(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")})
    path = root / "releases" / "t1.toml"
    path.write_text(path.read_text().replace('distribution = "bookworm"', 'distributions = ["bookworm", "trixie"]'))
    with pytest.raises(ModelError) as info:
        load_release(root, "t1")
    assert "suites" in str(info.value) and "{distribution}" in str(info.value)


def test_a_command_line_package_has_no_system_user(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, service_extra="system_user = false\n")
    svc = load_release(root, "t1").service("svc")
    assert not svc.system_user and svc.user == ""
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")},
                     service_extra='system_user = false\nuser = "svc"\n[[daemons]]\nname = "svc"\ncommand = "svc"\n'
                                   'description = "a daemon"\n')
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert "key 'system_user': false, but user, daemons need the service's user and directories" in str(exc.value)


API = '''
[[wsgi]]
name = "api-api"
application = "six:moves"
description = "An API"
port = 5000
'''


@pytest.mark.parametrize("beside, said", [
    ('["api"]', None),
    ('["ghost"]', "'ghost' is not a service of this release (it has: api, cli)"),
    ('["cli"]', "'cli' is the service itself"),
    ('["plain"]', "'plain' serves no WSGI application to bring up beside it"),
])
def test_a_smoke_brings_up_beside_it_services_of_its_release_that_serve_an_api(make_root, beside, said):
    root = make_root("six===1.17.0\n", {"cli": ("six", "1.17.0"), "api": ("six", "1.17.0")})
    (root / "services" / "api.toml").write_text((root / "services" / "api.toml").read_text() + API)
    cli = root / "services" / "cli.toml"
    cli.write_text(cli.read_text() + f"\n[smoke]\nbeside = {beside}\n")
    if "plain" in beside:
        write(root / "services" / "plain.toml", (root / "services" / "cli.toml").read_text()
              .replace('name = "cli"', 'name = "plain"').replace(f"beside = {beside}", 'setup = ["true"]'))
        release = root / "releases" / "t1.toml"
        release.write_text(release.read_text().replace('services = ["cli", "api"]', 'services = ["cli", "api", "plain"]'))
    if said is None:
        assert load_release(root, "t1").service("cli").smoke.beside == ("api",)
        return
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert "key 'services': cli.toml, key 'smoke.beside': " + said in str(exc.value)
