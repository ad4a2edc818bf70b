"""make demo's services of 2025.2 for bookworm (the core fleet of seven, and openstackclient), checked
against packaging/ (make demo builds every distribution)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from debian.debfile import DebFile

from tests.conftest import PROJECT
from venvdeb.model import load_release
from venvdeb.model.sandbox import SETPRIV, drops_itself
from .conftest import in_a_new_repository
from .test_service_build import run

pytestmark = [pytest.mark.integration, pytest.mark.network, pytest.mark.fleet]

RELEASE = load_release(PROJECT / "packaging", "2025.2").at("bookworm")


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache_dir):
    tmp = tmp_path_factory.mktemp("default")
    root = PROJECT / "packaging"
    run("wheelhouse", "build", "2025.2", "--dist", "bookworm", root=root, tmp=tmp, cache=cache_dir)
    return {s.name: Path(run("build", "2025.2", s.name, "--dist", "bookworm", "--reason", "Test build", root=root, tmp=tmp,
                             cache=cache_dir)[1]["deb"]) for s in RELEASE.services}


@pytest.mark.parametrize("service", [s.name for s in RELEASE.services])
def test_package_matches_the_service_file(built, service):
    declared = RELEASE.service(service)
    deb = DebFile(str(built[service]))
    control = deb.debcontrol()
    assert control["Package"] == f"venv-{service}"
    assert control["Version"] == f"{declared.source.version}-deb12u1"
    assert "python3 (>= 3.11), python3 (<< 3.12)" in control["Depends"]
    names = {str(n) for n in deb.data.tgz().getnames()}
    venv = f"./usr/lib/venvs/{service}"
    for script in declared.console_scripts:
        assert f"./usr/bin/{script}" in names and f"{venv}/bin/{script}" in names
    for daemon in declared.daemons:
        unit = deb.data.get_content(f"./lib/systemd/system/{daemon.name}.service").decode()
        # A daemon whose helpers use sudo starts as root and becomes its user itself (sandbox.py).
        becomes = SETPRIV.format(user=declared.user) + " " if drops_itself(daemon.relax) else ""
        assert f"\nExecStart={becomes}{venv[1:]}/bin/{daemon.command}\n" in unit
        assert ("\nUser=" in unit) != bool(becomes)
    if declared.config_sample:
        sample = deb.data.get_content(f"./usr/share/doc/venv-{service}/examples/{declared.config_sample.output}.sample")
        assert b"[DEFAULT]" in sample and len(sample) > 1000
    assert not [n for n in names if n.endswith(".pyc")]
    assert f"{venv}/lib/python3.11/site-packages/{service}" in names


@pytest.mark.parametrize("service", [s.name for s in RELEASE.services])
def test_package_is_lintian_clean(built, service):
    lint = subprocess.run(["lintian", "--fail-on", "error,warning", str(built[service])], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_keystone_from_its_package_serves_its_api_and_issues_a_token(built, tmp_path, cache_dir):
    """What docs/operator.md's operator does, in a clean chroot: install venv-keystone with apt, write
    keystone.conf, db_sync, fernet and credential keys, bootstrap, start keystone-api.service's
    command as the keystone user, then GET /v3 (200) and POST /v3/auth/tokens (201)."""
    proc = in_a_new_repository(PROJECT / "packaging", tmp_path, cache_dir,
                               "smoke", "2025.2", "keystone", str(built["keystone"]), "--dist", "bookworm", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    checks = {c["name"]: c["passed"] for c in result["checks"]}
    assert checks["keystone-api: GET /v3 gives 200"] and checks["keystone-api: POST /v3/auth/tokens gives 201"]
    assert [name for name in checks if name.startswith("keystone-api: started from its unit, as its user")]
    assert checks["piuparts: install, upgrade from the suite, purge, nothing left"] and checks["systemd-analyze verify"]


def test_nova_ships_its_configuration_in_etc_and_its_helpers_work_through_sudo(built, tmp_path, cache_dir):
    """Upstream's configuration files are conffiles in /etc/nova, rootwrap looks in the venv first;
    in a clean chroot sudo refuses privsep-helper for a context nova does not declare, and
    without rootwrap, and rootwrap refuses what its filters do not allow; nova-api serves its
    version document, started by systemd in its sandbox too; under nova-compute's unit (its
    sandbox, booted with systemd) privsep-helper starts through rootwrap, as nova-compute starts it."""
    deb = DebFile(str(built["nova"]))
    conffiles = set(deb.control.get_content("conffiles").decode().split())
    assert {"/etc/nova/api-paste.ini", "/etc/nova/rootwrap.conf", "/etc/nova/rootwrap.d/compute.filters",
            "/etc/nova/rootwrap.d/os-brick.filters", "/etc/sudoers.d/nova"} <= conffiles
    rootwrap = deb.data.get_content("./etc/nova/rootwrap.conf").decode()
    assert "\nexec_dirs=/usr/lib/venvs/nova/bin,/sbin," in rootwrap
    assert deb.data.tgz().getmember("./etc/sudoers.d/nova").mode == 0o440
    assert deb.data.tgz().getmember("./usr/lib/venvs/nova/etc/nova").linkname == "/etc/nova"
    assert "sudo" in deb.debcontrol()["Depends"]

    proc = in_a_new_repository(PROJECT / "packaging", tmp_path, cache_dir,
                               "smoke", "2025.2", "nova", str(built["nova"]), "--dist", "bookworm", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    checks = {c["name"]: c["passed"] for c in json.loads(proc.stdout)["checks"]}
    assert checks["/etc/sudoers.d/nova: mode 0440, and visudo -cf parses it"]
    assert checks["as nova: nova-rootwrap refuses privsep-helper for a context nova does not declare"]
    assert checks["as nova: sudo refuses privsep-helper without rootwrap"]
    assert checks["as nova: nova-rootwrap refuses a command that no filter allows"]
    assert checks["under nova-compute.service's sandbox: privsep-helper starts through sudo nova-rootwrap, as "
                  "nova-compute starts it, and runs a privileged function"]
    assert [n for n in checks if n.startswith("nova-api: the kernel shows its sandbox in force (NoNewPrivs 1")]
    assert checks["nova-api: GET / gives 200"]  # its databases migrated on sqlite, served by gunicorn
    assert checks["piuparts: install, upgrade from the suite, purge, nothing left"]


def test_neutron_migrates_on_mariadb_in_the_chroot_and_its_helpers_work_through_rootwrap(built, tmp_path, cache_dir):
    """neutron's migrations need a database server: smoke runs Debian's MariaDB in the clean
    chroot, neutron-db-manage upgrades it, neutron-api serves its version document; the agents'
    configuration names the venv's rootwrap, which runs what its filters allow and no more."""
    deb = DebFile(str(built["neutron"]))
    conffiles = set(deb.control.get_content("conffiles").decode().split())
    assert {"/etc/neutron/plugins/ml2/ml2_conf.ini", "/etc/neutron/plugins/ml2/openvswitch_agent.ini",
            "/etc/neutron/dhcp_agent.ini", "/etc/neutron/l3_agent.ini", "/etc/neutron/metadata_agent.ini",
            "/etc/neutron/rootwrap.conf", "/etc/sudoers.d/neutron"} <= conffiles
    assert "root_helper = sudo neutron-rootwrap /etc/neutron/rootwrap.conf" in \
        deb.data.get_content("./etc/neutron/l3_agent.ini").decode()
    proc = in_a_new_repository(PROJECT / "packaging", tmp_path, cache_dir,
                               "smoke", "2025.2", "neutron", str(built["neutron"]), "--dist", "bookworm", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    checks = {c["name"]: c["passed"] for c in json.loads(proc.stdout)["checks"]}
    assert checks["install mariadb-server for the service's database"]
    assert checks["mariadb: started, with database neutron for user neutron"]
    assert [n for n in checks if n.startswith("setup: ") and "upgrade heads" in n]
    assert checks["neutron-api: GET / gives 200"]
    assert checks["under neutron-l3-agent.service's sandbox: privsep-helper starts through sudo neutron-rootwrap, "
                  "as the L3 agent starts it, and runs a privileged function"]
    assert checks["as neutron: neutron-rootwrap refuses privsep-helper for a context neutron does not declare"]
    assert checks["as neutron: neutron-rootwrap runs what its filters allow"]
    assert checks["as neutron: neutron-rootwrap refuses a command that no filter allows"]


def test_horizon_ships_its_static_files_compressed_and_serves_its_login_page(built, tmp_path, cache_dir):
    """collectstatic and compress ran at build time, with the settings the package ships in
    /etc/horizon (a conffile, linked from the venv): the login page, served from the installed
    package with offline compression on, finds every compressed block it asks for."""
    deb = DebFile(str(built["horizon"]))
    names = {str(n) for n in deb.data.tgz().getnames()}
    site = "./usr/lib/venvs/horizon/lib/python3.11/site-packages"
    assert f"{site}/static/dashboard/manifest.json" in names
    assert [n for n in names if n.startswith(f"{site}/static/dashboard/css/output.") and n.endswith(".css")]
    assert not [n for n in names if n.endswith((".eslintrc", "/.secret_key_store")) or "secret_key_store.lock" in n]
    link = deb.data.tgz().getmember(f"{site}/openstack_dashboard/local/local_settings.py")
    assert link.issym() and link.linkname.endswith("etc/horizon/local_settings.py")
    assert "/etc/horizon/local_settings.py" in deb.control.get_content("conffiles").decode().split()
    proc = in_a_new_repository(PROJECT / "packaging", tmp_path, cache_dir,
                               "smoke", "2025.2", "horizon", str(built["horizon"]), "--dist", "bookworm", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    checks = {c["name"]: c["passed"] for c in json.loads(proc.stdout)["checks"]}
    assert checks["horizon: GET /auth/login/ gives 200"]  # with COMPRESS_OFFLINE: a missing block is a 500


def test_horizon_built_twice_is_the_same_bytes(built, tmp_path, cache_dir):
    """The build commands' output (collected and compressed static files, the offline manifest)
    is the same from one build to the next: two builds of one rendered tree, in two directories
    at two times."""
    import shutil
    import time

    from pathlib import Path

    from venvdeb.environment import for_build
    from venvdeb.service.build import BuildOptions, build_tree, ensure_wheelhouse

    rendered = tmp_path / "rendered"
    # The module's build directories (<tmp>/out/2025.2/<deb>): its wheelhouse and ledgers.
    run("render", "2025.2", "horizon", "--dist", "bookworm", "-o", str(rendered), root=PROJECT / "packaging",
        tmp=built["horizon"].parents[2], cache=cache_dir)
    # The module's state directory: the wheelhouse's ledger names the wheelhouse it built.
    options = BuildOptions(cache_dir=cache_dir, out_dir=built["horizon"].parent,
                           state_dir=built["horizon"].parents[2] / "state")
    debs = []
    with for_build("bookworm", "test", cache_dir) as env:  # one build chroot, the tree at two paths in it
        ensure_wheelhouse(RELEASE, options, env, log=print)
        for where in ("a/deep/dir", "b"):
            tree = env.scratch / where / "venv-horizon-25.5.2"
            shutil.copytree(rendered, tree, symlinks=True)
            made = build_tree(env, tree, cache_dir, tmp_path / f"{where.replace('/', '-')}.log",
                              provided=(RELEASE.wheelhouse_package,))
            debs.append(Path(shutil.copy(made, tmp_path / f"{where.replace('/', '-')}.deb")))
            time.sleep(1.1)
    assert debs[0].read_bytes() == debs[1].read_bytes()
