"""The master configuration generated from a packaging root and the settings."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from twisted.internet import defer

from buildbot.plugins import schedulers as bb_schedulers
from buildbot.process.properties import Properties

from tests.conftest import PROJECT, write
from venvdeb.buildbot import factories, schedulers, settings as settings_mod
from venvdeb.buildbot.config import make_config
from venvdeb.buildbot.schedulers import identifier
from venvdeb.errors import VenvdebError


@pytest.fixture
def root(make_root, tmp_path):
    """A project root with packaging/: release r1 with a PyPI service and a git-sourced one."""
    packaging = make_root("idna===3.10\n", {"svc": ("idna", "3.10")}, name="r1")
    release = packaging / "releases" / "r1.toml"
    release.write_text(release.read_text().replace('services = ["svc"]', 'services = ["svc", "gitsvc"]'))
    write(packaging / "services" / "gitsvc.toml", """
        name = "gitsvc"
        summary = "From git"
        console_scripts = ["gitsvc"]
        smoke_commands = ["gitsvc"]

        [source]
        git = "/srv/git/gitsvc.git"
        branch = "stable/r1"
    """)
    return tmp_path


def kw(scheduler) -> dict:
    """A scheduler's configuration (Buildbot services keep it until the master starts them)."""
    return scheduler._config_kwargs


def settings_file(tmp_path, text: str) -> dict:
    path = write(tmp_path / "bb.toml", text)
    return {"VENVDEB_BUILDBOT_CONFIG": str(path)}


def test_builders_and_schedulers_come_from_packaging(root):
    config = make_config(root, {})
    assert [b.name for b in config["builders"]] == ["wheelhouse-r1-bookworm", "r1-bookworm-venv-svc", "r1-bookworm-venv-gitsvc",
                                                   "promote-r1-bookworm", "rollback-r1-bookworm", "repo-refresh"]
    # Promotion and rollback run on the master's own worker, from a form that names the package.
    promote = config["builders"][3]
    assert promote.workernames == ["master-local"] and promote.tags == ["r1", "bookworm", "promote"]
    assert [s.step_class.name for s in promote.factory.steps] == ["promote"]
    # The suites' Valid-Until renewed nightly (and on an admin's button), on the master.
    refresh = config["builders"][-1]
    assert refresh.workernames == ["master-local"] and [s.step_class.name for s in refresh.factory.steps] == ["refresh"]
    nightly = {s.name: s for s in config["schedulers"]}["nightly-repo-refresh"]
    assert nightly.builderNames == ["repo-refresh"] and nightly._config_kwargs["hour"] == 4
    assert config["buildbotNetUsageData"] is None
    assert config["collapseRequests"] is False
    # HTTPS, with a self-signed certificate made on first load (key readable by its owner only).
    tls = root / "var" / "buildbot" / "tls"
    assert config["www"]["port"] == (f"ssl:8010:interface=127.0.0.1:privateKey={tls / 'key.pem'}"
                                     f":certKey={tls / 'cert.pem'}")
    assert (tls / "key.pem").stat().st_mode & 0o777 == 0o600 and config["buildbotURL"] == "https://127.0.0.1:8010/"
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((tls / "cert.pem").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.1" in {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}
    # A server's leaf: it signs no other certificate, whoever trusts it.
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is False
    assert make_config(root, {"VENVDEB_BUILDBOT_WWW_TLS": "false"})["www"]["port"] == "tcp:8010:interface=127.0.0.1"
    # Kept while it fits; made again for another host, or when the key is not the certificate's.
    from venvdeb.buildbot.tls import ensure_certificate

    made = (tls / "cert.pem").read_bytes()
    assert ensure_certificate(tls, "127.0.0.1") and (tls / "cert.pem").read_bytes() == made
    ensure_certificate(tls, "build.example.org")
    assert (tls / "cert.pem").read_bytes() != made
    moved = (tls / "cert.pem").read_bytes()
    (tls / "key.pem").write_bytes((tls / "key.pem").read_bytes())  # unchanged key: kept
    assert ensure_certificate(tls, "build.example.org") and (tls / "cert.pem").read_bytes() == moved
    # Workers connect over TLS alone, to the worker port's own certificate (another than the web UI's).
    workers_tls = root / "var" / "buildbot" / "tls" / "workers"
    assert config["protocols"]["pb"]["port"] == (f"ssl:9989:interface=127.0.0.1:privateKey={workers_tls / 'key.pem'}"
                                                 f":certKey={workers_tls / 'cert.pem'}")
    assert (workers_tls / "cert.pem").read_bytes() != (tls / "cert.pem").read_bytes()
    assert set(config["www"]["plugins"]) == {"waterfall_view", "console_view", "grid_view", "wsgi_dashboards"}
    (page,) = config["www"]["plugins"]["wsgi_dashboards"]
    assert page["name"] == "releases" and [p.name for p in page["app"].points] == ["r1"]
    names = {s.name: s for s in config["schedulers"]}
    assert {"force_wheelhouse_r1_bookworm", "force_r1_bookworm_venv_svc", "force_r1_bookworm_venv_gitsvc",
            "services_r1_bookworm", "git_r1_bookworm_gitsvc"} <= set(names)
    assert names["services_r1_bookworm"].builderNames == ["r1-bookworm-venv-svc", "r1-bookworm-venv-gitsvc"]
    assert isinstance(names["services_r1_bookworm"], bb_schedulers.Triggerable)
    assert names["git_r1_bookworm_gitsvc"].builderNames == ["r1-bookworm-venv-gitsvc"]
    assert kw(names["git_r1_bookworm_gitsvc"])["treeStableTimer"] == 120
    force = names["force_r1_bookworm_venv_svc"]
    assert kw(force)["reason"].required and kw(force)["reason"].name == "reason"
    # With smoke (the default), a service's lint and smoke are one step that runs them side by side.
    step_names = [s.kwargs.get("name", s.step_class.name) for s in config["builders"][1].factory.steps]
    # The worker plans, the master chooses the version, the worker builds it; the master adds its
    # changelog entry to the ledger after publishing, then builds that version again itself and
    # compares the bytes (promotion's gate). No lock: builds of one package run at once.
    assert step_names == ["repository-keyring", "fetch-wheelhouse", "ledger-from-master", "plan", "version", "build",
                          "upload-deb", "accept-upload", "upload-buildinfo", "gates", "publish", "ledger-to-master",
                          "record-build", "rebuild", "remove-uploads"]
    assert config["builders"][1].locks == [] and config["builders"][0].locks
    # The tmp packaging root is in no git checkout: its constraints have no poller.
    assert [p._config_args[0] for p in config["change_source"]] == ["/srv/git/gitsvc.git"]
    assert kw(config["change_source"][0])["branches"] == ["stable/r1"]
    # No secrets file: nobody logs in, and the worker's password is random, not a known default.
    assert "auth" not in config["www"]
    assert len(config["workers"][0].password) >= 24
    assert config["workers"][0].password != make_config(root, {})["workers"][0].password


def test_the_project_config_polls_the_lock_in_its_own_repository():
    config = make_config(PROJECT, {})
    names = [b.name for b in config["builders"]]
    # Each release at each of its distributions: a wheelhouse builder and one per service.
    fleet = ["nova", "glance", "keystone", "placement", "neutron", "cinder", "horizon", "openstackclient"]
    assert names[:12] == ["wheelhouse-2025.2-bookworm", *(f"2025.2-bookworm-venv-{s}" for s in fleet),
                          "cloud-2025.2-bookworm", "promote-2025.2-bookworm", "rollback-2025.2-bookworm"]
    # 2025.2, 2026.1 and 2026.2 (each with a cloud), then tools (venvdeb itself: none), each at both
    # distributions; + repo-refresh.
    assert len(names) == 3 * 2 * (1 + len(fleet) + 3) + 2 * (1 + 1 + 2) + 1
    assert "cloud-tools-bookworm" not in names
    assert "2026.2-trixie-venv-openstackclient" in names
    tags = {b.name: b.tags for b in config["builders"]}
    assert tags["2026.1-trixie-venv-nova"] == ["2026.1", "trixie", "service"]
    assert tags["cloud-2026.2-trixie"] == ["2026.2", "trixie", "cloud"]
    schedulers = {s.name: s for s in config["schedulers"]}
    # The cloud gate: triggered by the point's service builds once they publish, and its button.
    assert schedulers["cloud_2026_2_trixie"].builderNames == ["cloud-2026.2-trixie"]
    assert schedulers["force_cloud_2026_2_trixie"].builderNames == ["cloud-2026.2-trixie"]
    for dist in ("bookworm", "trixie"):
        sched = schedulers[f"constraints_2025_2_{dist}"]
        assert sched.builderNames == [f"wheelhouse-2025.2-{dist}"]
        assert kw(sched)["properties"]["trigger_services"] is True
    important = kw(sched)["fileIsImportant"]
    assert important(SimpleNamespace(files=["packaging/locks/2025.2.txt"]))
    assert not important(SimpleNamespace(files=["README.md"]))
    # venv-venvdeb is built from the packaging's own repository, one poller: a commit to venvdeb's
    # code or its service file builds it, one to another release's packaging does not.
    own = schedulers["git_tools_bookworm_venvdeb"]
    assert own.builderNames == ["tools-bookworm-venv-venvdeb"] and kw(own)["onlyImportant"]
    code = kw(own)["fileIsImportant"]
    assert code(SimpleNamespace(files=["src/venvdeb/deb.py"])) and code(SimpleNamespace(files=["pyproject.toml"]))
    assert code(SimpleNamespace(files=["packaging/services/venvdeb.toml"]))
    assert not code(SimpleNamespace(files=["packaging/locks/2025.2.txt", "packaging/services/nova.toml"]))
    # A master on another branch than the service's: its checkout lacks that branch, so the
    # service is polled as any git source, from its own repository and branch.
    from venvdeb.buildbot.schedulers import in_packaging
    from venvdeb.buildbot.settings import PackagingSource, Settings
    from venvdeb.model import load_release

    settings = Settings(root=PROJECT, packaging="packaging")
    venvdeb = load_release(PROJECT / "packaging", "tools").service("venvdeb")
    top = str(PROJECT.resolve())
    assert in_packaging(settings, PackagingSource(top, "main", "packaging"), venvdeb)
    assert not in_packaging(settings, PackagingSource(top, "feature", "packaging"), venvdeb)
    # The master's checkout is a clone of the packaging repository: '..' is that repository.
    assert in_packaging(settings, PackagingSource("https://git.example.org/venvdeb.git", "main", "packaging"), venvdeb)
    assert "packaging_tools_bookworm_venvdeb" not in schedulers
    assert [p._config_args[0] for p in config["change_source"] if p._config_args] == [str(PROJECT.resolve())]


def test_settings_file_and_environment(root):
    from venvdeb.buildbot.secrets_file import hash_password

    write(root / "secrets.toml", f"""
        admins = ["alice"]
        [users]
        alice = "{hash_password('s3cret')}"
        bob = "{hash_password('pw')}"
        [workers]
        w1 = "p1"
        w2 = "p2"
    """)
    env = settings_file(root, f"""
        workers = ["w1", "w2"]
        db_url = "postgresql://buildbot@db.example.org/buildbot"
        www_port = 8099
        secrets_file = "{root / 'secrets.toml'}"
        smoke = false
        nightly_hour = 3
        tree_stable_timer = 5
        [releases.r1]
        constraints_repo = "https://git.example.org/requirements"
        constraints_branch = "stable/r1"
        constraints_files = ["upper-constraints.txt"]
    """)
    env["VENVDEB_BUILDBOT_WWW_PORT"] = "8111"  # the environment wins over the file
    config = make_config(root, env)
    assert config["db"]["db_url"] == "postgresql://buildbot@db.example.org/buildbot"
    assert config["www"]["port"].startswith("ssl:8111:interface=127.0.0.1:privateKey=")
    # Passwords are not in the loaded configuration: Buildbot renders each worker's Secret from
    # the provider, which reads the secrets file; web logins are checked against it the same way.
    from buildbot.process.properties import Secret

    workers = config["workers"]
    assert [w.workername for w in workers] == ["w1", "w2", "master-local"]
    assert all(isinstance(w.password, Secret) for w in workers[:2]) and "p1" not in repr(workers[0].password)
    (provider,) = config["secretsProviders"]
    assert provider.get("workers/w1") == "p1" and provider.get("workers/nobody") is None
    assert provider.get("users/alice") is not None and provider.get("other/alice") is None
    auth = config["www"]["auth"]
    # The file keeps each login's password hashed: the hash itself is no password.
    assert "s3cret" not in (root / "secrets.toml").read_text()
    assert auth.check_credentials(b"alice", b"s3cret") and auth.check_credentials(b"bob", b"pw")
    assert not auth.check_credentials(b"alice", provider.get("users/alice").encode())
    assert not auth.check_credentials(b"alice", b"wrong") and not auth.check_credentials(b"mallory", b"x")
    # A password left in clear text is refused, saying how to hash it.
    write(root / "secrets.toml", 'admins = ["alice"]\n[users]\nalice = "s3cret"\n')
    with pytest.raises(VenvdebError, match="users.alice: a password in clear text") as clear:
        make_config(root, env)
    assert "python -m venvdeb.buildbot.secrets_file" in clear.value.hint
    assert config["builders"][1].workernames == ["w1", "w2"]
    names = {s.name: s for s in config["schedulers"]}
    nightly = names["nightly_r1_bookworm"]
    assert nightly.builderNames == ["wheelhouse-r1-bookworm"] and kw(nightly)["hour"] == 3
    assert kw(names["constraints_r1_bookworm"])["treeStableTimer"] == 5
    repos = sorted(p._config_args[0] for p in config["change_source"])
    assert repos == ["/srv/git/gitsvc.git", "https://git.example.org/requirements"]
    # smoke = false: no smoke step in service builds
    step_names = [s.kwargs.get("name", s.step_class.name) for s in config["builders"][1].factory.steps]
    assert "smoke" not in step_names
    assert step_names == ["repository-keyring", "fetch-wheelhouse", "ledger-from-master", "plan", "version", "build",
                          "upload-deb", "accept-upload", "upload-buildinfo", "lintian", "publish", "ledger-to-master",
                          "record-build", "rebuild", "remove-uploads"]
    # Every step that runs the target's interpreter is pinned to the builder's distribution.
    build = next(s for s in config["builders"][1].factory.steps if s.kwargs.get("name", s.step_class.name) == "build")
    assert build.kwargs["extra_args"][-2:] == ["--dist", "bookworm"]


@pytest.mark.parametrize("text, message", [
    ("wrkers = ['a']", "unknown setting 'wrkers'"),
    ("www_port = 'eighty'", "www_port must be a number"),
    ("smoke = 'maybe'", "smoke must be true or false"),
    ("workers = []", "name no worker"),
    ("[releases.r1]\nconstraints_rpo = 'x'", "releases.r1: unknown setting 'constraints_rpo'"),
])
def test_bad_settings_are_refused(root, text, message):
    with pytest.raises(VenvdebError, match=message):
        settings_mod.load(root, settings_file(root, text))


def test_bad_environment_value_is_refused(root):
    with pytest.raises(VenvdebError, match=r"\$VENVDEB_BUILDBOT_WWW_PORT"):
        settings_mod.load(root, {"VENVDEB_BUILDBOT_WWW_PORT": "http"})


def test_secrets_are_written_for_the_owner_only(tmp_path):
    path = tmp_path / "var" / "secrets.toml"
    from venvdeb.buildbot.secrets_file import hash_password

    admin = hash_password('pa"ss')
    settings_mod.write_secrets(path, {"admin": admin}, ["admin"], {"local": 'w"p'})
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = settings_mod.load_secrets(path)
    assert loaded.users == {"admin": admin} and loaded.admins == ("admin",) and loaded.workers == {"local": 'w"p'}
    # Rewritten by rename (a new inode), never truncated in place under a reading master.
    before = path.stat().st_ino
    settings_mod.write_secrets(path, {"admin": hash_password("new")}, ["admin"], {"local": "wp", "second": "wp2"})
    assert path.stat().st_ino != before and path.stat().st_mode & 0o777 == 0o600
    assert settings_mod.load_secrets(path).workers == {"local": "wp", "second": "wp2"}
    assert [p.name for p in path.parent.iterdir()] == ["secrets.toml"]


def test_opendev_constraints_url_names_its_repository(root):
    s = settings_mod.load(root, {})
    release = SimpleNamespace(name="x", constraints=SimpleNamespace(
        url="https://opendev.org/openstack/requirements/raw/branch/stable/2025.2/upper-constraints.txt",
        path=None, requirements_in=None))
    assert settings_mod.constraints_repo(s, release) == settings_mod.ConstraintsRepo(
        "https://opendev.org/openstack/requirements", "stable/2025.2", ("upper-constraints.txt",))


def render(renderer, **props):
    p = Properties()
    for k, v in props.items():
        p.setProperty(k, v, "test")
    got = []
    defer.maybeDeferred(p.render, renderer).addCallback(got.append)  # no I/O: the Deferred has fired
    return got[0]


def test_build_reason():
    assert render(factories.build_reason, reason="CVE-2026-1234") == "CVE-2026-1234"
    assert render(factories.build_reason, scheduler="git_r1_gitsvc", repository="/srv/g.git",
                  branch="stable/r1", revision="0123456789abcdef") == \
        "Automatic build (git_r1_gitsvc): /srv/g.git stable/r1 at 0123456789ab"
    assert render(factories.build_reason, scheduler="nightly_r1") == "Automatic build (nightly_r1)"


def test_identifier():
    assert identifier("force-wheelhouse-2025.2") == "force_wheelhouse_2025_2"
    assert schedulers.poller_name("a") != schedulers.poller_name("b")


@pytest.mark.parametrize("form, field, value, message", [
    ("promote", "version", ["1.0; rm -rf /"], "Version to promote:'1.0; rm -rf /' does not match pattern"),
    ("promote", "version", [" "], "'Version to promote' needs to be specified"),
    ("rollback", "package", ["venv-nosuch"], "'venv-nosuch' does not belong to list of available choices"),
    ("promote", "reason", [""], "'Reason' needs to be specified"),
    ("build", "reason", [], "'Reason (goes into debian/changelog)' needs to be specified"),
])
def test_the_force_forms_refuse_bad_input_naming_the_field(form, field, value, message):
    """Buildbot's force form refuses these before any build is queued: nothing runs, and the
    web UI shows the message beside the field."""
    from buildbot.schedulers.forcesched import ValidationError
    release = SimpleNamespace(wheelhouse_package="venvdeb-wheelhouse-r1", services=[SimpleNamespace(package="venv-svc")])
    scheduler = (schedulers.force("r1-bookworm-venv-svc") if form == "build"
                 else schedulers.repository_action(f"{form}-r1-bookworm", release, form))
    params = {p.name: p for p in [*kw(scheduler).get("properties", [])] + [kw(scheduler)["reason"]]}
    with pytest.raises(ValidationError, match=re.escape(message)):
        params[field].getFromKwargs({params[field].fullName: value})
    good = {"version": "33.0.2-deb12u1", "package": "venv-svc", "reason": "a reason"}[field]
    assert params[field].getFromKwargs({params[field].fullName: [good]}) == good


@pytest.mark.parametrize("piuparts, extra", [("true", []), ("false", ["--no-piuparts"])])
def test_the_farms_smoke_runs_piuparts_unless_told_not_to(root, piuparts, extra):
    config = make_config(root, settings_file(root, f"smoke = true\npiuparts = {piuparts}\n"))
    gates = next(s for s in config["builders"][1].factory.steps if s.kwargs.get("name", s.step_class.name) == "gates")
    smoke_args = gates.kwargs["smoke_args"]
    assert [a for a in smoke_args if "piuparts" in a] == extra


def _git(*args, cwd):
    import subprocess

    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd, check=True,
                   capture_output=True)


def test_a_packaging_root_in_git_is_checked_out_by_every_build_at_its_revision(root):
    """The packaging in a git repository: builds check it out on the master, from the master's own
    mirror, then on the worker at the commit the master chose, which the master sends it as a git
    bundle over the worker connection; commits rebuild what they touch."""
    _git("init", "-q", "-b", "main", cwd=root)
    _git("add", "packaging", cwd=root)
    _git("commit", "-q", "-m", "Packaging", cwd=root)
    config = make_config(root, {})
    builders = {b.name: b for b in config["builders"]}
    steps = {b: [s.kwargs.get("name", s.step_class.name) for s in builders[b].factory.steps] for b in builders}
    assert steps["r1-bookworm-venv-svc"][:4] == ["packaging-on-master", "packaging-from-master", "packaging",
                                                 "repository-keyring"]
    assert steps["wheelhouse-r1-bookworm"][:3] == ["packaging-on-master", "packaging-from-master", "packaging"]
    # Repository actions are not builds of a revision: they read the master's packaging.
    assert steps["promote-r1-bookworm"] == ["promote"]
    on_master, sent, checkout = builders["r1-bookworm-venv-svc"].factory.steps[:3]
    assert on_master.kwargs["source"] == settings_mod.PackagingSource(str(root), "main", "packaging")
    assert on_master.kwargs["mirrors"] == root / "var" / "buildbot" / "packaging-mirrors"
    assert render(on_master.kwargs["dest"], buildername="b", buildnumber=7) == \
        str(root / "var" / "buildbot" / "uploads" / "b" / "7" / "packaging-src")
    # The bundle the master made of that checkout is what the worker checks out: no fetch of its own.
    bundle = render(on_master.kwargs["bundle"], buildername="b", buildnumber=7)
    assert bundle == str(root / "var" / "buildbot" / "uploads" / "b" / "7" / "packaging.bundle")
    assert render(sent.kwargs["mastersrc"], buildername="b", buildnumber=7) == bundle
    assert sent.kwargs["workerdest"] == "packaging.bundle"
    unbundle = [render(a, packaging_commit="0123abc") for a in checkout.kwargs["command"]]
    assert unbundle[-4:] == ["packaging-src", "packaging.bundle", "main", "0123abc"]
    by_name = {s.kwargs.get("name", s.step_class.name): s for s in builders["r1-bookworm-venv-svc"].factory.steps}
    build = by_name["build"].kwargs
    assert build["packaging"] == "packaging-src/packaging"
    # The commit the master chose, not what the worker says it checked out.
    assert render(build["packaging_commit"], packaging_commit="0123456789abcdef",
                  got_revision="fedcba") == "0123456789abcdef"
    # The gates run on the master, from its own checkout, on the upload.
    gates = by_name["gates"].kwargs
    assert render(gates["packaging"], buildername="b", buildnumber=7) == \
        str(root / "var" / "buildbot" / "uploads" / "b" / "7" / "packaging-src" / "packaging")
    assert render(gates["deb"], buildername="b", buildnumber=7).endswith("/b/7/upload.deb")
    assert render(by_name["publish"].kwargs["packaging"], buildername="b", buildnumber=7).endswith(
        "/b/7/packaging-src/packaging")
    # The wheelhouse build hands the services it triggers the commit it read.
    trigger = next(s for s in builders["wheelhouse-r1-bookworm"].factory.steps if s.kwargs.get("name") == "rebuild-services")
    assert render(trigger.kwargs["set_properties"]["packaging_revision"], packaging_commit="abc1234") == "abc1234"
    names = {s.name: s for s in config["schedulers"]}
    service = kw(names["packaging_r1_bookworm_svc"])
    assert names["packaging_r1_bookworm_svc"].builderNames == ["r1-bookworm-venv-svc"]
    assert service["properties"] == {"only_if_changed": True} and service["onlyImportant"]
    assert service["fileIsImportant"](SimpleNamespace(files=["packaging/services/svc.toml"]))
    assert not service["fileIsImportant"](SimpleNamespace(files=["packaging/services/gitsvc.toml"]))
    # The release file and the constraints beside it: the wheelhouse, then what changed.
    wheelhouse = kw(names["constraints_r1_bookworm"])
    assert wheelhouse["fileIsImportant"](SimpleNamespace(files=["packaging/releases/r1.toml"]))
    assert wheelhouse["fileIsImportant"](SimpleNamespace(files=["packaging/upper-constraints.txt"]))
    assert str(root) in [p._config_args[0] for p in config["change_source"]]


def test_the_checkout_takes_the_handed_commit_then_a_packaging_commit_then_the_head():
    from venvdeb.buildbot.checkout import revision_to_build

    assert revision_to_build("aaa1111", "/srv/packaging.git", "bbb2222", "/srv/packaging.git") == "aaa1111"
    assert revision_to_build(None, "/srv/packaging.git", "bbb2222", "/srv/packaging.git") == "bbb2222"
    # A constraints or upstream commit is no packaging revision: the branch's head.
    assert revision_to_build(None, "/srv/requirements.git", "ccc3333", "/srv/packaging.git") is None
    assert revision_to_build(None, None, None, "/srv/packaging.git") is None


def test_a_packaging_repo_without_a_checkout_on_the_master_is_refused(root):
    with pytest.raises(VenvdebError, match="packaging_repo is set .* is not a git checkout"):
        make_config(root, {"VENVDEB_BUILDBOT_PACKAGING_REPO": "https://git.example.org/packaging.git"})


def test_the_master_fetches_the_packaging_only_over_a_transport_that_authenticates_the_server(root):
    """Workers get the packaging from the master over their TLS connection; the master's own fetch
    must authenticate its server too: git:// and http:// are refused, with what to use instead."""
    assert [settings_mod.authenticated_url(u) for u in (
        "https://opendev.org/x/packaging", "ssh://git@example.org/packaging", "git@example.org:packaging.git",
        "/srv/git/packaging.git", "file:///srv/git/packaging.git")] == [True] * 5
    assert not any(settings_mod.authenticated_url(u) for u in (
        "git://example.org/packaging", "http://example.org/packaging.git"))
    _git("init", "-q", "-b", "main", cwd=root)
    _git("add", "packaging", cwd=root)
    _git("commit", "-q", "-m", "Packaging", cwd=root)
    with pytest.raises(VenvdebError, match="packaging_repo git://example.org/packaging: git:// and http:// "
                                           "authenticate no server") as refused:
        make_config(root, {"VENVDEB_BUILDBOT_PACKAGING_REPO": "git://example.org/packaging"})
    assert "https:// or ssh" in refused.value.hint


def test_the_session_cookie_is_http_only_and_same_site_strict(root):
    """Buildbot's session cookie, as the web UI's session writes it once the config is loaded."""
    from buildbot.www.service import BuildbotSession

    make_config(root, {})
    cookies = []
    request = SimpleNamespace(isSecure=lambda: True, sitepath=[],
                              addCookie=lambda name, value, **kw: cookies.append((name, kw)))
    session = SimpleNamespace(uid="token")
    BuildbotSession.updateSession(session, request)
    [(name, flags)] = cookies
    assert flags == {"path": b"/", "secure": True, "httpOnly": True, "sameSite": "strict"}
