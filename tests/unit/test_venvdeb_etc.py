"""debian/venvdeb-etc, which moves the configuration files upstream's wheels ship from the venv to
/etc/<service>/, on a venv laid out as nova's and os-brick's wheels install it."""

from __future__ import annotations

import importlib.util
import os
from importlib.machinery import SourceFileLoader

import pytest

from tests.conftest import PROJECT, write

ROOTWRAP_CONF = "[DEFAULT]\nfilters_path=/etc/nova/rootwrap.d\n# the places rootwrap looks\nexec_dirs=/sbin,/usr/sbin,/bin\n"


def etc_script():
    loader = SourceFileLoader("venvdeb_etc", str(PROJECT / "templates" / "debian" / "venvdeb-etc"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


@pytest.fixture
def package(tmp_path):
    """debian/venv-nova as dh_virtualenv and dh_install leave it: nova's and os-brick's data
    files in the venv's etc/, gunicorn's settings already in /etc/nova."""
    pkg = tmp_path / "debian" / "venv-nova"
    venv = pkg / "usr/lib/venvs/nova"
    write(venv / "etc/nova/api-paste.ini", "[composite:osapi_compute]\n")
    write(venv / "etc/nova/rootwrap.conf", ROOTWRAP_CONF)
    write(venv / "etc/nova/rootwrap.d/compute.filters", "[Filters]\n")
    write(venv / "etc/os-brick/rootwrap.d/os-brick.filters", "[Filters]\nmount: CommandFilter, mount, root\n")
    write(pkg / "etc/nova/nova-api-gunicorn.conf.py", "workers = 2\n")
    return pkg, venv


def test_upstream_files_move_to_etc_with_rootwrap_looking_in_the_venv_first(package):
    pkg, venv = package
    etc_script().main(str(venv), str(pkg), "nova", "/usr/lib/venvs/nova", ["os_brick"])
    etc = pkg / "etc/nova"
    assert sorted(str(p.relative_to(etc)) for p in etc.rglob("*") if p.is_file()) == [
        "api-paste.ini", "nova-api-gunicorn.conf.py", "rootwrap.conf", "rootwrap.d/compute.filters",
        "rootwrap.d/os-brick.filters"]
    assert os.readlink(venv / "etc/nova") == "/etc/nova"
    conf = (etc / "rootwrap.conf").read_text()
    assert "exec_dirs=/usr/lib/venvs/nova/bin,/sbin,/usr/sbin,/bin\n" in conf
    assert "# the places rootwrap looks\n" in conf  # upstream's comments stay
    assert "mount: CommandFilter" in (etc / "rootwrap.d/os-brick.filters").read_text()


def test_a_service_that_ships_nothing_for_etc_is_left_as_it_is(tmp_path):
    pkg = tmp_path / "debian" / "venv-six"
    venv = pkg / "usr/lib/venvs/six"
    write(venv / "etc/os-brick/rootwrap.d/os-brick.filters", "[Filters]\n")
    etc_script().main(str(venv), str(pkg), "six", "/usr/lib/venvs/six")
    assert not (pkg / "etc").exists()
    assert (venv / "etc/os-brick/rootwrap.d/os-brick.filters").is_file()


def test_a_wheel_file_that_the_package_already_installs_stops_the_build(package):
    pkg, venv = package
    write(venv / "etc/nova/nova-api-gunicorn.conf.py", "workers = 8\n")
    with pytest.raises(SystemExit, match="nova-api-gunicorn.conf.py: the package already installs this file"):
        etc_script().main(str(venv), str(pkg), "nova", "/usr/lib/venvs/nova")


def test_rootwrap_filters_come_only_from_the_libraries_the_service_names(package):
    """rootwrap runs as root what any installed filter allows: a library's filters are installed
    only where the service file names it ([helpers] filters_from)."""
    pkg, venv = package
    write(venv / "etc/evil-lib/rootwrap.d/evil.filters", "[Filters]\nsh: CommandFilter, sh, root\n")
    etc_script().main(str(venv), str(pkg), "nova", "/usr/lib/venvs/nova", ["os-brick"])
    installed = sorted(p.name for p in (pkg / "etc/nova/rootwrap.d").iterdir())
    assert installed == ["compute.filters", "os-brick.filters"]


def test_a_library_named_for_filters_it_does_not_ship_stops_the_build(package):
    pkg, venv = package
    with pytest.raises(SystemExit, match="oslo-log: named for its rootwrap filters"):
        etc_script().main(str(venv), str(pkg), "nova", "/usr/lib/venvs/nova", ["os-brick", "oslo.log"])
