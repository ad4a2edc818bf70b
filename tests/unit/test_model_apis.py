"""The model of what a service serves: WSGI applications, functional smoke checks, lintian
overrides; each mistake named by file and key before anything runs."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PROJECT
from venvdeb.errors import ModelError
from venvdeb.gates.api_check import unit_settings
from venvdeb.model import load_release

WSGI = """
[[wsgi]]
name = "svc-api"
application = "svc.wsgi:application"
description = "Test API"
port = {port}
"""


def problems(exc) -> str:
    return "\n".join(exc.value.problems)


def refused(make_root, service_extra: str):
    """Loading release t1, whose service svc (six) has ``service_extra``, fails: its ModelError."""
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, service_extra=service_extra)
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    return exc


def test_keystone_declares_its_api_and_the_checks_that_prove_it():
    for name in ("2025.2", "2026.1"):
        keystone = load_release(PROJECT / "packaging", name).service("keystone")
        (api,) = keystone.wsgi
        assert (api.name, api.application, api.port, api.bind, api.workers) == (
            "keystone-api", "keystone.wsgi.api:application", 5000, "0.0.0.0", 2)
        # gunicorn comes from the release's own wheelhouse, pinned by its constraints.
        assert "gunicorn" in [r.name for r in keystone.root_requirements()]
        token = keystone.smoke.requests[-1]
        assert (token.method, token.path, token.status) == ("POST", "/v3/auth/tokens", 201)
        assert json.loads(token.body)["auth"]["identity"]["methods"] == ["password"]
        assert dict(keystone.smoke.config)["keystone.conf"].count("sqlite:////var/lib/keystone/") == 1


def test_a_wsgi_application_is_module_colon_callable_on_a_port(make_root):
    exc = refused(make_root, """
[[wsgi]]
name = "svc-api"
application = "svc.wsgi"
description = ""
port = 70000
workers = 0
""")
    said = problems(exc)
    assert exc.value.path.endswith("services/svc.toml")
    assert "key 'wsgi[0].application': 'svc.wsgi' is not module:callable" in said
    assert "key 'wsgi[0].port': 70000 is not a TCP port" in said
    assert "key 'wsgi[0].workers': must be at least 1" in said
    assert "key 'wsgi[0].description': must not be empty" in said


def test_two_wsgi_applications_of_one_release_on_one_port_are_refused(make_root):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0"), "other": ("six", "1.17.0")},
                     service_extra=WSGI.format(port=8774))
    other = root / "services" / "other.toml"
    other.write_text(other.read_text().replace('"svc-api"', '"other-api"'))
    with pytest.raises(ModelError) as exc:
        load_release(root, "t1")
    assert exc.value.path.endswith("releases/t1.toml")
    assert problems(exc) == ("key 'services': port 8774 is taken by svc-api (svc.toml) and by other-api (other.toml): "
                             "give each WSGI application its own port in its service file")


def test_a_check_names_an_application_the_service_serves(make_root):
    exc = refused(make_root, WSGI.format(port=8080) + """
[[smoke.requests]]
wsgi = "svc-ap"
path = "v3"
status = 2000
json = "{not json"
""")
    said = problems(exc)
    assert "key 'smoke.requests[0].path': 'v3' must start with '/'" in said
    assert "key 'smoke.requests[0].status': 2000 is not an HTTP status" in said
    assert "key 'smoke.requests[0].json': not valid JSON" in said
    exc = refused(make_root, WSGI.format(port=8080) + """
[[smoke.requests]]
wsgi = "svc-ap"
path = "/"
status = 200
""")
    assert problems(exc) == "key 'smoke.requests[0].wsgi': 'svc-ap' is not one of the service's [[wsgi]] applications (svc-api)"


def test_a_lintian_override_without_a_reason_is_refused(make_root):
    exc = refused(make_root, """
[[lintian_overrides]]
tag = "privacy-breach-generic"
context = "* [usr/lib/venvs/svc/*]"

[[lintian_overrides]]
tag = "package-contains-vcs-control-file"
reason = ""
""")
    assert "key 'lintian_overrides[0].reason': required but missing" in problems(exc)
    assert "key 'lintian_overrides[1].reason': must not be empty" in problems(exc)


def test_smoke_reads_a_units_service_settings_as_systemd_does():
    unit = unit_settings("[Unit]\nDescription=x\nUser=nobody\n\n[Service]\n# a comment\nUser=keystone\n"
                         "ExecStart=/usr/lib/venvs/keystone/bin/gunicorn --config /etc/k.py k:app\n"
                         "WorkingDirectory=/var/lib/keystone\n[Install]\nWantedBy=multi-user.target\n")
    assert unit == {"User": "keystone", "ExecStart": "/usr/lib/venvs/keystone/bin/gunicorn --config /etc/k.py k:app",
                    "WorkingDirectory": "/var/lib/keystone"}


def test_nova_declares_its_helpers_and_the_commands_that_prove_them():
    for name in ("2025.2", "2026.1"):
        nova = load_release(PROJECT / "packaging", name).service("nova")
        assert nova.helpers.rootwrap == "nova-rootwrap" and nova.helpers.filters_from == ("os-brick",)
        assert "nova.privsep.sys_admin_pctxt" in nova.helpers.privsep_contexts
        assert "nova-rootwrap" in nova.console_scripts and nova.smoke.wanted
        refused = nova.smoke.commands[-1]
        assert (refused.status, refused.contains) == (99, "Unauthorized command")
        # The privileged function runs under nova-compute's unit, in its sandbox; sudo refuses
        # privsep-helper for an undeclared context, and without rootwrap.
        assert [(c.status, c.unit) for c in nova.smoke.commands[:4]] == [
            (0, "nova-compute"), (0, "nova-compute"), (1, None), (1, None)]


def test_helpers_name_a_console_script_and_commands_an_exit_status(make_root):
    exc = refused(make_root, """
[helpers]
rootwrap = "svc-rootwrap"

[[smoke.commands]]
description = "runs"
run = "true"
status = 300

[[smoke.commands]]
run = "true"
""")
    said = problems(exc)
    assert exc.value.path.endswith("services/svc.toml")
    assert "key 'smoke.commands[0].status': 300 is not an exit status (0-255)" in said
    assert "key 'smoke.commands[1].description': required" in said


def test_a_rootwrap_that_is_not_a_console_script_or_an_empty_helpers_table_is_named(make_root):
    for extra, expected in (
            ('[helpers]\nrootwrap = "svc-rootwrap"\n',
             "key 'helpers.rootwrap': 'svc-rootwrap' is not one of the service's console_scripts"),
            ("[helpers]\nprivsep = true\n", "key 'helpers.privsep': unknown key"),
            ('[helpers]\nprivsep_contexts = ["os_brick.privileged.default"]\n', "key 'helpers.rootwrap': required"),
            ('[helpers]\nrootwrap = "svc"\nprivsep_contexts = ["x; rm -rf /"]\n',
             "key 'helpers.privsep_contexts': 'x; rm -rf /' is not an oslo.privsep context")):
        exc = refused(make_root, extra)
        assert expected in problems(exc)


def test_files_for_etc_build_commands_and_the_smoke_database_are_checked_before_anything_runs(make_root):
    exc = refused(make_root, """
[etc]
"../passwd" = "x"
"/etc/shadow" = "x"
"plugins//x.ini" = "x"

[build]
commands = ["true", "echo one\\necho two"]
""")
    said = problems(exc)
    assert exc.value.path.endswith("services/svc.toml")
    assert "'../passwd', '/etc/shadow', 'plugins//x.ini': a path below /etc/<service>/, relative" in said
    assert "key 'build.commands': 'echo one\\necho two' holds a newline: it must be one line" in said
    exc = refused(make_root, WSGI.format(port=8080) + """
[etc]
"svc-api-gunicorn.conf.py" = "bind = []"
"n.conf" = 3
""")
    said = problems(exc)
    assert "key 'etc.n.conf': expected the file's text as a string" in said
    assert "key 'etc.svc-api-gunicorn.conf.py': the package makes this file for [[wsgi]] 'svc-api'" in said
    exc = refused(make_root, '[smoke]\ndatabase = "postgres"\nsetup = ["true"]\n')
    assert problems(exc) == "key 'smoke.database': 'postgres' is not one of mariadb (sqlite needs no server)"


def test_the_rest_of_the_fleet_declares_what_smoke_proves():
    for name in ("2025.2", "2026.1"):
        release = load_release(PROJECT / "packaging", name)
        assert {"neutron", "cinder", "horizon"} <= {s.name for s in release.services}
        neutron, cinder, horizon = (release.service(s) for s in ("neutron", "cinder", "horizon"))
        # neutron's migrations need a server; cinder's run on sqlite.
        assert neutron.smoke.database == "mariadb" and cinder.smoke.database is None
        assert {d.name for d in neutron.daemons} == {
            "neutron-rpc-server", "neutron-periodic-workers", "neutron-openvswitch-agent", "neutron-dhcp-agent",
            "neutron-l3-agent", "neutron-metadata-agent"}
        assert "plugins/ml2/ml2_conf.ini" in dict(neutron.etc)
        assert {d.name for d in cinder.daemons} == {"cinder-scheduler", "cinder-volume"}
        assert [w.application for w in cinder.wsgi] == ["cinder.wsgi.api:application"]
        for svc in (neutron, cinder):
            assert svc.helpers.privsep and svc.smoke.commands[-1].status == 99
            assert [c.unit for c in svc.smoke.commands if c.unit] == [
                {"neutron": "neutron-l3-agent", "cinder": "cinder-volume"}[svc.name]]
        # horizon's static files are compressed at build time, with the settings it ships.
        assert "COMPRESS_OFFLINE = True" in dict(horizon.etc)["local_settings.py"]
        assert any("django compress" in c for c in horizon.build_commands)
        assert horizon.smoke.requests[0].path == "/auth/login/"
