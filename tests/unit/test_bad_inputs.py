"""Bad input, a table of it: each case a clear message naming the file, field or argument, a
non-zero exit, and nothing written (no output, state, cache or repository directory appears).
The cases that need the network or Debian's tools are in tests/integration/test_bad_input.py."""

from __future__ import annotations

import re
import shutil

import pytest

from venvdeb.cli import main

OK_SERVICE = 'console_scripts = ["svc"]'


def case(name, argv, said, release="", service="", files=None):
    return pytest.param(argv, said, release, service, files or {}, id=name)


CASES = [
    # The release file.
    case("release unknown key", ["validate", "t1"], ("releases/t1.toml: invalid", "key 'bogus': unknown key"), release="bogus = 1\n"),
    case("release unknown distribution", ["validate", "t1"], "releases/t1.toml", release='distributions = ["sid"]\n'),
    case("release names a service without a file", ["validate", "t1"], "ghost",
         files={"releases/t1.toml": lambda s: s.replace('services = ["svc"]', 'services = ["svc", "ghost"]')}),
    case("release constraints file missing", ["validate", "t1"], "upper-constraints.txt",
         files={"upper-constraints.txt": None}),
    case("release not valid TOML", ["validate", "t1"], "releases/t1.toml",
         files={"releases/t1.toml": lambda s: s + "\n[[[\n"}),
    case("no such release", ["validate", "t9"], "t9"),
    case("release override without a reason", ["validate", "t1"],
         ("releases/t1.toml: invalid", "key 'constraints.overrides.six.reason': required"),
         files={"releases/t1.toml": lambda s: s.replace("\n[suites]", '\n[constraints.overrides.six]\nversion = "1.16.0"\n\n[suites]')}),
    case("release override of a package the constraints do not pin", ["wheelhouse", "build", "t1"],
         "key 'constraints.overrides.nosuch': ",
         files={"releases/t1.toml": lambda s: s.replace(
             "\n[suites]", '\n[constraints.overrides.nosuch]\nversion = "1.0"\nreason = "why"\n\n[suites]')}),
    # A service file.
    case("service unknown key", ["validate", "t1"], ("services/svc.toml: invalid", "key 'colour': unknown key"), service="colour = 1\n"),
    case("service version not PEP 440", ["validate", "t1"], "services/svc.toml",
         files={"services/svc.toml": lambda s: s.replace('version = "1.17.0"', 'version = "one"')}),
    case("service console script not a name", ["validate", "t1"], "console_scripts",
         files={"services/svc.toml": lambda s: s.replace('console_scripts = ["svc"]', 'console_scripts = ["a b"]')}),
    case("service smoke command of two lines", ["validate", "t1"], "services/svc.toml",
         service='[build]\ncommands = ["a\\nb"]\n'),
    case("service user not a user name", ["validate", "t1"], "key 'user'", service='user = "Root User"\n'),
    case("service depends not a relation", ["validate", "t1"], "key 'depends'", service='depends = ["libvirt0 (>> )"]\n'),
    case("service etc path escaping /etc", ["validate", "t1"], "key 'etc'", service='[etc]\n"../passwd" = "x"\n'),
    case("service lintian override without a reason", ["validate", "t1"], "lintian_overrides[0]",
         service='[[lintian_overrides]]\ntag = "some-tag"\n'),
    case("service wsgi port out of range", ["validate", "t1"], "services/svc.toml",
         service='[[wsgi]]\nname = "svc-api"\napplication = "svc.wsgi:application"\nport = 70000\n'),
    case("service daemon without a command", ["validate", "t1"], "services/svc.toml",
         service='[[daemons]]\nname = "svc-worker"\n'),
    case("service rootwrap not a script name", ["validate", "t1"], "key 'helpers.rootwrap': '../x' is not a console script's name",
         service='[helpers]\nrootwrap = "../x"\n'),
    # Values that land in a unit, gunicorn's settings (Python), debian/control, a make recipe or a
    # command line (issue 26): a newline would start a line of its own there.
    case("service daemon command with a second line", ["validate", "t1"],
         ("services/svc.toml: invalid", "key 'daemons[0].command': 'svc\\nExecStartPre=+/bin/sh -c id' holds a newline"),
         service='[[daemons]]\nname = "svc-worker"\ncommand = "svc\\nExecStartPre=+/bin/sh -c id"\n'
                 'description = "Worker"\n'),
    case("service daemon description with a second line", ["validate", "t1"],
         "key 'daemons[0].description': 'Worker\\n[Service]' holds a newline",
         service='[[daemons]]\nname = "svc-worker"\ncommand = "svc"\ndescription = "Worker\\n[Service]"\n'),
    case("service wsgi description with a second line", ["validate", "t1"],
         "key 'wsgi[0].description': 'API\\nimport os' holds a newline",
         service='[[wsgi]]\nname = "svc-api"\napplication = "svc.wsgi:application"\nport = 8080\n'
                 'description = "API\\nimport os"\n'),
    case("service wsgi bind that is Python", ["validate", "t1"],
         "key 'wsgi[0].bind': '0.0.0.0\"]\\\\nimport os; os.system(\"id\")\\\\nx = [\"' is neither an IPv4 address nor",
         service='[[wsgi]]\nname = "svc-api"\napplication = "svc.wsgi:application"\nport = 8080\n'
                 'description = "API"\nbind = \'0.0.0.0"]\\nimport os; os.system("id")\\nx = ["\'\n'),
    case("service wsgi bind that is not an address", ["validate", "t1"],
         "key 'wsgi[0].bind': '0.0.0.0 --reload' is neither an IPv4 address nor a host name",
         service='[[wsgi]]\nname = "svc-api"\napplication = "svc.wsgi:application"\nport = 8080\n'
                 'description = "API"\nbind = "0.0.0.0 --reload"\n'),
    case("service summary with a second line", ["validate", "t1"],
         "key 'summary': 'Svc\\nDepends: evil' holds a newline",
         files={"services/svc.toml": lambda s: re.sub(r'summary = "[^"]*"', r'summary = "Svc\\nDepends: evil"', s)}),
    case("service config namespace that is a make recipe", ["validate", "t1"],
         "key 'config_sample.namespaces': 'nova; touch /tmp/x' is not an oslo.config namespace",
         service='[config_sample]\noutput = "svc.conf"\nnamespaces = ["nova; touch /tmp/x"]\n'),
    case("service git URL that is an option", ["validate", "t1"],
         "key 'source.git': '--upload-pack=touch /tmp/x' is not a git repository: a URL or a path, not an option",
         files={"services/svc.toml": lambda s: s.replace('[source]\n', '[source]\ngit = "--upload-pack=touch /tmp/x"\n'
                                                        'branch = "main"\n')}),
    # A unit's sandbox relaxed: only the sandbox's own settings, each with a reason, one line.
    case("service relaxes a setting the sandbox does not have", ["validate", "t1"],
         ("services/svc.toml: invalid", "key 'daemons[0].relax[0].setting': 'ExecStartPre' is not a setting of the sandbox"),
         service='[[daemons]]\nname = "svc-worker"\ncommand = "svc"\ndescription = "Worker"\n'
                 '[[daemons.relax]]\nsetting = "ExecStartPre"\nvalue = "+/bin/sh"\nreason = "why"\n'),
    case("service relaxes a setting without a reason", ["validate", "t1"],
         "key 'wsgi[0].relax[0].reason': required but missing",
         service='[[wsgi]]\nname = "svc-api"\napplication = "svc.wsgi:application"\nport = 8080\n'
                 'description = "API"\n[[wsgi.relax]]\nsetting = "NoNewPrivileges"\nvalue = "no"\n'),
    case("service API relaxes no_new_privs", ["validate", "t1"],
         "key 'wsgi[0].relax[0].setting': an application's unit cannot relax NoNewPrivileges",
         service='[[wsgi]]\nname = "svc-api"\napplication = "svc.wsgi:application"\nport = 8080\n'
                 'description = "API"\n[[wsgi.relax]]\nsetting = "NoNewPrivileges"\nvalue = "no"\nreason = "sudo"\n'),
    case("service relaxation whose value is a second line", ["validate", "t1"],
         "key 'daemons[0].relax[0].value': 'no\\nExecStartPre=+/bin/sh' holds a newline",
         service='[[daemons]]\nname = "svc-worker"\ncommand = "svc"\ndescription = "Worker"\n'
                 '[[daemons.relax]]\nsetting = "NoNewPrivileges"\nvalue = "no\\nExecStartPre=+/bin/sh"\nreason = "why"\n'),
    case("service relaxes one setting twice", ["validate", "t1"],
         "key 'daemons[0].relax[1].setting': PrivateTmp is relaxed twice",
         service='[[daemons]]\nname = "svc-worker"\ncommand = "svc"\ndescription = "Worker"\n'
                 '[[daemons.relax]]\nsetting = "PrivateTmp"\nreason = "why"\n'
                 '[[daemons.relax]]\nsetting = "PrivateTmp"\nvalue = "no"\nreason = "why"\n'),
    case("service user root", ["validate", "t1"],
         "key 'user': 'root' is an account of Debian's base system: give the service a user of its own",
         service='user = "root"\n'),
    case("service user www-data", ["validate", "t1"], "key 'user': 'www-data' is an account of Debian's base system",
         service='user = "www-data"\n'),
    case("release index URL on another host than it seems", ["validate", "t1"],
         "key 'index_url': 'http://127.0.0.1.example.org/simple' must be an https:// URL",
         release='index_url = "http://127.0.0.1.example.org/simple"\n'),
    # Commands and their arguments.
    case("build of a service the release lacks", ["build", "t1", "nosuch"], "nosuch"),
    case("a distribution the release is not for", ["build", "t1", "svc", "--dist", "trixie"], "trixie"),
    case("lint of a file that is not there", ["lint", "/nonexistent/venv-x_1_all.deb"], "/nonexistent/venv-x_1_all.deb"),
    case("lint failing on a severity that is none", ["lint", "--fail-on", "fatal", "x.deb"], "--fail-on: 'fatal' is not a lintian severity"),
    case("publish of a file that is not there", ["repo", "publish", "s", "/nonexistent/venv-x_1_all.deb"],
         "/nonexistent/venv-x_1_all.deb"),
    case("smoke of a file that is not there", ["smoke", "t1", "svc", "/nonexistent/venv-svc_1_all.deb"],
         "/nonexistent/venv-svc_1_all.deb"),
    case("build with a wheelhouse .deb that is not there", ["build", "t1", "svc", "--wheelhouse-deb", "/nonexistent/w.deb"],
         "/nonexistent/w.deb"),
    case("publish requiring a gate there is not", ["repo", "publish", "s", "/nonexistent/x.deb", "--gates", "lint,review"],
         "review"),
    case("verify of a wheelhouse that is not there", ["wheelhouse", "verify", "t1", "/nonexistent/w.deb"],
         "/nonexistent/w.deb"),
    case("fetch from a URL that is not one", ["wheelhouse", "fetch", "t1", "--repo-url", "not a url"], "not a url"),
]


@pytest.mark.parametrize("argv, said, release, service, files", CASES)
def test_bad_input_is_named_exits_non_zero_and_writes_nothing(make_root, tmp_path, capsys, monkeypatch,
                                                             argv, said, release, service, files):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, release_extra=release, service_extra=service)
    for name, change in files.items():
        path = root / name
        if change is None:
            path.unlink()
        else:
            path.write_text(change(path.read_text()))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    dirs = {"VENVDEB_OUT": work / "out", "VENVDEB_STATE": work / "state", "VENVDEB_CACHE": work / "cache",
            "VENVDEB_REPO": work / "repo"}
    for key, value in dirs.items():
        monkeypatch.setenv(key, str(value))
    try:
        code = main(["--packaging", str(root), *argv])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err  # bad usage or bad input (errors.py), argparse's own refusals too
    for part in (said,) if isinstance(said, str) else said:
        assert part in err, err
    assert "Traceback" not in err
    assert sorted(p.name for p in work.iterdir()) == [], "something was written"


def test_a_pin_of_the_2026_2_lock_that_its_overrides_forbid_is_refused(tmp_path, capsys, monkeypatch):
    """The default packaging's 2026.2, its lock edited by hand back to the pin an override moved:
    the wheelhouse build names the lock, the line and the override, and writes nothing."""
    from tests.conftest import PROJECT

    root = tmp_path / "packaging"
    shutil.copytree(PROJECT / "packaging", root)
    lock = root / "locks" / "2026.2.txt"
    text = lock.read_text()
    assert "keystoneauth1==5.16.0 \\\n" in text
    lock.write_text(text.replace("keystoneauth1==5.16.0 \\\n", "keystoneauth1==5.15.0 \\\n"))
    line = text[:text.index("keystoneauth1==5.16.0")].count("\n") + 1
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code = main(["--packaging", str(root), "wheelhouse", "build", "2026.2", "--dist", "bookworm",
                 "--cache-dir", str(work / "cache"), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")])
    err = capsys.readouterr().err
    assert code == 2
    assert (f"locks/2026.2.txt: keystoneauth1: the lock pins 5.15.0 (line {line}), but {root}/releases/2026.2.toml "
            "overrides it to 5.16.0 (key 'constraints.overrides.keystoneauth1')") in err
    assert "venvdeb lock" in err and "Traceback" not in err
    assert sorted(p.name for p in work.iterdir()) == [], "something was written"
