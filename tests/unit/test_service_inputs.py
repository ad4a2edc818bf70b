"""Bad input for service packages, at the boundaries that decide it."""

import json
import shutil
import pytest
from packaging.requirements import Requirement

from venvdeb.errors import VenvdebError
from venvdeb.service.installed import Wheelhouse, closure
from venvdeb.model.closure import Root
from debian.debian_support import Version as DebianVersion

from venvdeb.model.versions import debian_upstream, next_version

from .test_constraints import ENV_311
from venvdeb.service.render import TEMPLATES

from .test_golden import GOLDEN, render_case

TAGS = ["cp311-cp311-manylinux_2_17_x86_64", "py3-none-any"]


def wheelhouse(tmp_path, wheels) -> Wheelhouse:
    (tmp_path / "manifest.json").write_text(json.dumps({
        "package": "wh", "version": "7", "interpreter": "cp311", "wheels": wheels}))
    return Wheelhouse.load(tmp_path, "/usr/share/venvdeb/wheelhouse/r")


def item(name, version, file, requires=()):
    return {"name": name, "version": version, "file": file, "sha256": "0" * 64, "size": 1, "origin": "downloaded",
            "license": "MIT", "requires": list(requires), "console_scripts": []}


def test_requirement_missing_from_the_wheelhouse_names_it_and_the_version(tmp_path):
    wh = wheelhouse(tmp_path, [item("svc", "1.0", "svc-1.0-py3-none-any.whl", ["six>=1"])])
    with pytest.raises(VenvdebError) as exc:
        closure(wh, [Root(Requirement("svc==1.0"), "service svc")], ENV_311, TAGS)
    assert "six is not in the wheelhouse wh 7" in str(exc.value)


def test_wheel_for_another_python_abi_is_refused(tmp_path):
    wh = wheelhouse(tmp_path, [item("svc", "1.0", "svc-1.0-py3-none-any.whl", ["fast"]),
                               item("fast", "2.0", "fast-2.0-cp312-cp312-manylinux_2_17_x86_64.whl")])
    with pytest.raises(VenvdebError) as exc:
        closure(wh, [Root(Requirement("svc==1.0"), "service svc")], ENV_311, TAGS)
    assert "fast-2.0-cp312-cp312-manylinux_2_17_x86_64.whl is built for cp312-cp312" in str(exc.value)


def test_closure_takes_only_what_the_service_needs(tmp_path):
    wh = wheelhouse(tmp_path, [item("svc", "1.0", "svc-1.0-py3-none-any.whl", ["a"]),
                               item("a", "1", "a-1-py3-none-any.whl"), item("b", "1", "b-1-py3-none-any.whl")])
    got = closure(wh, [Root(Requirement("svc==1.0"), "service svc")], ENV_311, TAGS)
    assert [w.name for w in got] == ["a", "svc"]


def test_template_that_fails_to_render_gives_file_and_line(tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (templates / "debian" / "control.j2").write_text("Source: {{ package }}\n\nPackage: {% if %}\n")
    with pytest.raises(VenvdebError) as exc:
        render_case("minimal", tmp_path / "out", templates=templates)
    assert f"{templates / 'debian' / 'control.j2'}:3: template error" in str(exc.value)


def test_console_script_that_does_not_exist(tmp_path):
    golden = tmp_path / "golden"
    shutil.copytree(GOLDEN, golden)
    service = golden / "nova" / "in" / "packaging" / "services" / "nova.toml"
    service.write_text(service.read_text().replace('"nova-status",\n]', '"nova-status", "nova-api",\n]'))
    with pytest.raises(VenvdebError) as exc:
        render_case("nova", tmp_path / "out", golden=golden)
    assert "key 'console_scripts': nova-api not provided by any distribution in the venv" in str(exc.value)
    assert "nova.toml" in str(exc.value) and "nova-manage" in exc.value.hint


def test_debian_versions_sort_like_python_ones():
    assert debian_upstream("32.2.2.dev5") == "32.2.2~~dev5"
    assert debian_upstream("32.0.0.0rc1") == "32.0.0.0~rc1"
    assert debian_upstream("1.0.post1") == "1.0+post1"
    assert debian_upstream("2!1.0") == "2:1.0"


def test_revisions_grow_and_never_go_backwards():
    assert next_version("32.2.1", None, "s", 12) == "32.2.1-deb12u1"
    assert next_version("32.2.1", "32.2.1-deb12u4", "s", 12) == "32.2.1-deb12u5"
    assert next_version("32.2.2~dev5", "32.2.1-deb12u4", "s", 12) == "32.2.2~dev5-deb12u1"
    with pytest.raises(VenvdebError) as exc:
        next_version("32.2.0", "32.2.1-deb12u4", "services/nova.toml", 12)
    assert "services/nova.toml: version 32.2.0 would go backwards: the last build was 32.2.1-deb12u4" in str(exc.value)
    with pytest.raises(VenvdebError):
        next_version("32.2.2~dev5", "32.2.2-deb12u1", "s", 12)


def test_versions_sort_for_dist_upgrades_and_after_plain_revisions():
    bookworm = [next_version("33.0.2", None, "s", 12)]
    for _ in range(10):
        bookworm.append(next_version("33.0.2", bookworm[-1], "s", 12))
    trixie = next_version("33.0.2", None, "s", 13)
    # Every bookworm build sorts below the first trixie build: a dist-upgrade replaces it.
    assert all(DebianVersion(b) < DebianVersion(trixie) for b in bookworm)
    assert sorted(bookworm, key=DebianVersion) == bookworm  # deb12u10 after deb12u9
    # An earlier venvdeb's plain revision (-4) continues, and sorts below the marked ones.
    after = next_version("32.2.1", "32.2.1-4", "s", 12)
    assert after == "32.2.1-deb12u5" and DebianVersion(after) > DebianVersion("32.2.1-4")


@pytest.mark.parametrize("git, homepage", [
    ("https://opendev.org/openstack/nova", "https://opendev.org/openstack/nova"),
    ("/srv/checkouts/venvdeb", None), ("git@example.org:x/svc", None), ("git://example.org/svc", None),
])
def test_a_git_source_is_the_home_page_only_when_it_is_a_web_address(git, homepage):
    from venvdeb.service.build import homepage_of

    assert homepage_of(git) == homepage
