"""A service's WSGI application, served by gunicorn from its venv and checked by smoke in a clean
chroot: started from its installed unit, as its user, asked over HTTP on 127.0.0.1.

The smallest real case: werkzeug's own test application (werkzeug.testapp:test_app). Keystone,
the real service, is brought up the same way in test_default_services.py and by make demo.
The same service has a privileged helper, as nova and neutron do: oslo.rootwrap, run by the
service user through sudo (the package's sudoers file), allowing what its filters allow.
"""

from __future__ import annotations

import pytest
from debian.debfile import DebFile

from tests.conftest import write
from .conftest import pipeline_in_a_new_repository

pytestmark = [pytest.mark.integration, pytest.mark.network]

CONSTRAINTS = ("werkzeug===3.1.3\nmarkupsafe===3.0.2\ngunicorn===23.0.0\npackaging===25.0\n"
               "oslo.rootwrap===7.9.0\ndebtcollector===3.0.0\nwrapt===2.1.1\npbr===7.0.3\nsetuptools===80.10.2\n")

SERVICE = """
name = "wz"
summary = "werkzeug's test application"
requirements = ["oslo.rootwrap"]
console_scripts = ["oslo-rootwrap"]
smoke_commands = ["python3 -c 'print(1)'"]

[helpers]
rootwrap = "oslo-rootwrap"

[etc]
"rootwrap.conf" = '''
[DEFAULT]
filters_path = /etc/wz/rootwrap.d
exec_dirs = /usr/lib/venvs/wz/bin,/sbin,/usr/sbin,/bin,/usr/bin
use_syslog = False
'''
"rootwrap.d/wz.filters" = '''
[Filters]
id: CommandFilter, id, root
'''

[[smoke.commands]]
description = "oslo-rootwrap runs what its filters allow, as root"
run = "sudo oslo-rootwrap /etc/wz/rootwrap.conf id -un"
contains = "root"

[[smoke.commands]]
description = "oslo-rootwrap refuses a command that no filter allows"
run = "sudo oslo-rootwrap /etc/wz/rootwrap.conf cat /etc/shadow"
status = 99
contains = "Unauthorized command"

[source]
pypi = "werkzeug"
version = "3.1.3"

[[wsgi]]
name = "wz-api"
application = "werkzeug.testapp:test_app"
description = "werkzeug test application"
port = 8099
workers = 1

[[wsgi]]
name = "wz-broken"
application = "werkzeug.testapp:no_such_app"
description = "an application that cannot be loaded"
port = 8098

[[lintian_overrides]]
tag = "package-contains-documentation-outside-usr-share-doc"
context = "[usr/lib/venvs/wz/*]"
reason = "upstream's wheels ship their licence files inside the venv"

[[smoke.requests]]
wsgi = "wz-api"
path = "/"
status = 200
contains = "WSGI Information"

[[smoke.requests]]
wsgi = "wz-api"
path = "/"
status = 418

[[smoke.requests]]
wsgi = "wz-broken"
path = "/"
status = 200
"""


def test_an_api_is_served_from_its_unit_and_a_wrong_expectation_or_a_broken_application_is_named(
        make_root, tmp_path, cache_dir):
    root = make_root(CONSTRAINTS, {}, name="w1")
    release = root / "releases" / "w1.toml"
    release.write_text(release.read_text().replace("services = []", 'services = ["wz"]'))
    write(root / "services" / "wz.toml", SERVICE)
    proc = pipeline_in_a_new_repository(root, "w1", tmp_path, cache_dir)
    said = proc.stderr
    assert proc.returncode == 1, said[-3000:]
    (deb,) = (tmp_path / "out" / "w1").glob("venv-wz_*.deb")

    # The package: a unit per application, gunicorn's settings as a conffile in /etc/wz/.
    data = DebFile(str(deb)).data
    unit = data.get_content("./lib/systemd/system/wz-api.service").decode()
    assert ("ExecStart=/usr/lib/venvs/wz/bin/gunicorn --config /etc/wz/wz-api-gunicorn.conf.py "
            "werkzeug.testapp:test_app") in unit
    assert "User=wz" in unit and "WorkingDirectory=/var/lib/wz" in unit
    settings = data.get_content("./etc/wz/wz-api-gunicorn.conf.py").decode()
    assert 'bind = ["0.0.0.0:8099"]' in settings and "workers = 1" in settings
    assert "/etc/wz/wz-api-gunicorn.conf.py" in DebFile(str(deb)).control.get_content("conffiles").decode()
    overrides = data.get_content("./usr/share/lintian/overrides/venv-wz").decode()
    assert ("# upstream's wheels ship their licence files inside the venv\n"
            "venv-wz: package-contains-documentation-outside-usr-share-doc [usr/lib/venvs/wz/*]\n") in overrides

    # The helper: sudo lets the service user run the venv's rootwrap with the package's config only.
    sudoers = data.get_content("./etc/sudoers.d/wz").decode()
    assert "wz ALL = (root) NOPASSWD: /usr/lib/venvs/wz/bin/oslo-rootwrap /etc/wz/rootwrap.conf *" in sudoers
    assert "sudo" in DebFile(str(deb)).debcontrol()["Depends"]
    assert "smoke: ok   as wz: oslo-rootwrap runs what its filters allow, as root" in said
    assert "smoke: ok   as wz: oslo-rootwrap refuses a command that no filter allows" in said

    # Smoke: the package's own checks pass, then the application answers as declared...
    assert "smoke: ok   systemd-analyze verify" in said
    assert "smoke: ok   wz-api: started from its unit, as its user, on 127.0.0.1:" in said
    assert "smoke: ok   wz-api: GET / gives 200" in said
    # ... and what does not hold is named: the URL, the status and the body;
    assert "smoke: FAIL wz-api: GET / gives 418" in said
    assert "GET http://127.0.0.1:" in said and "/: expected status 418, got 200; body:" in said
    assert "WSGI Information" in said
    # an application that cannot be imported, with its traceback.
    assert "smoke: FAIL wz-broken: started from its unit" in said
    assert "werkzeug.testapp:no_such_app cannot be imported as wz" in said
    assert "AttributeError" in said and "no_such_app" in said
    assert "NOTHING PUBLISHED" in proc.stdout


BESIDE_API = """
name = "wz"
summary = "werkzeug's test application"
console_scripts = []
smoke_commands = ["python3 -c 'print(1)'"]

[source]
pypi = "werkzeug"
version = "3.1.3"

[[wsgi]]
name = "wz-api"
application = "werkzeug.testapp:test_app"
description = "werkzeug test application"
port = 8099
workers = 1

[[lintian_overrides]]
tag = "package-contains-documentation-outside-usr-share-doc"
context = "[usr/lib/venvs/wz/*]"
reason = "upstream's wheels ship their licence files inside the venv"

[[smoke.requests]]
wsgi = "wz-api"
path = "/"
status = 200
contains = "WSGI Information"

# Run by systemd as wz-api's ExecStart, in its sandbox: what the user may do elsewhere is refused.
[[smoke.commands]]
description = "the API's sandbox refuses a netlink socket, which its service never needs"
run = "python3 -c 'import socket; socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)'"
status = 1
contains = "Address family not supported"
unit = "wz-api"
"""

COMMAND = """
name = "cli"
summary = "Command that talks to an API"
console_scripts = []
smoke_commands = ["/usr/lib/venvs/cli/bin/python -c 'import idna'"]
system_user = false

[source]
pypi = "idna"
version = "3.10"

[smoke]
beside = ["wz"]

[[smoke.commands]]
description = "the command runs unprivileged, as an operator"
run = "id -un"
contains = "nobody"

[[smoke.commands]]
description = "the command reaches the API brought up beside it"
run = "/usr/lib/venvs/cli/bin/python -c 'import os, urllib.request; print(urllib.request.urlopen(os.environ[\\"WZ_API_URL\\"]).read().decode())'"
contains = "WSGI Information"
"""


def test_a_command_is_smoked_against_a_service_brought_up_beside_it(make_root, tmp_path, cache_dir):
    root = make_root(CONSTRAINTS + "idna===3.10\n", {}, name="w2")
    release = root / "releases" / "w2.toml"
    # The command first: the pipeline builds the service it needs beside it before it.
    release.write_text(release.read_text().replace("services = []", 'services = ["cli", "wz"]'))
    write(root / "services" / "wz.toml", BESIDE_API)
    write(root / "services" / "cli.toml", COMMAND)
    proc = pipeline_in_a_new_repository(root, "w2", tmp_path, cache_dir)
    said = proc.stderr
    assert proc.returncode == 0, said[-3000:]
    assert said.index("pipeline: venv-wz: build ok") < said.index("pipeline: venv-cli: build ok")

    # A command makes no system user and no directories of its own.
    (deb,) = (tmp_path / "out" / "w2").glob("venv-cli_*.deb")
    postinst = DebFile(str(deb)).control.get_content("postinst").decode()
    assert "adduser" not in postinst and "/var/lib/cli" not in postinst
    assert "adduser" not in DebFile(str(deb)).debcontrol()["Depends"]

    # Its smoke installed wz's candidate beside it, brought it up as wz's own smoke does, and ran
    # the command against it, as nobody.
    assert "smoke: ok   install venv-wz beside it, with apt" in said
    assert "smoke: ok   beside, wz: wz-api started from its unit, on 127.0.0.1:" in said
    assert "smoke: ok   as nobody: the command runs unprivileged, as an operator" in said
    assert "smoke: ok   as nobody: the command reaches the API brought up beside it" in said
    # wz's own smoke booted its chroot with systemd: wz-api ran in its unit's sandbox, as the
    # kernel shows it, and the sandbox refused what wz's user may do elsewhere.
    assert "smoke: ok   wz-api: started by systemd, in its unit's sandbox, on port 8099" in said
    assert "smoke: ok   wz-api: the kernel shows its sandbox in force (NoNewPrivs 1, Seccomp 2, CapBnd 0000000000000000, / ro)" in said
    assert "smoke: ok   under wz-api.service's sandbox: the API's sandbox refuses a netlink socket" in said
    assert "published to staging" in proc.stdout
