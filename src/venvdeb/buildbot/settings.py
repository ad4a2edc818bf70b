"""The master's settings: a TOML file named by $VENVDEB_BUILDBOT_CONFIG, then environment variables.

Everything has a default that runs a master on 127.0.0.1 with sqlite, so ``buildbot checkconfig``
passes on a fresh checkout. Passwords live only in the secrets file (never committed; its default
is under var/, which git ignores). Unknown keys are errors, as in packaging/: a misspelt setting
must not silently fall back to its default.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import VenvdebError
from ..files import write_atomic

CONFIG_ENV = "VENVDEB_BUILDBOT_CONFIG"

# setting -> (environment variable, type)
ENVIRONMENT = {
    "workers": ("VENVDEB_BUILDBOT_WORKERS", list),
    "db_url": ("VENVDEB_BUILDBOT_DB_URL", str),
    "www_port": ("VENVDEB_BUILDBOT_WWW_PORT", int),
    "www_host": ("VENVDEB_BUILDBOT_WWW_HOST", str),
    "www_tls": ("VENVDEB_BUILDBOT_WWW_TLS", bool),
    "tls_dir": ("VENVDEB_BUILDBOT_TLS_DIR", str),
    "worker_port": ("VENVDEB_BUILDBOT_WORKER_PORT", int),
    "worker_host": ("VENVDEB_BUILDBOT_WORKER_HOST", str),
    "secrets_file": ("VENVDEB_BUILDBOT_SECRETS", str),
    "repo_url": ("VENVDEB_BUILDBOT_REPO_URL", str),
    "packaging": ("VENVDEB_BUILDBOT_PACKAGING", str),
    "packaging_repo": ("VENVDEB_BUILDBOT_PACKAGING_REPO", str),
    "packaging_branch": ("VENVDEB_BUILDBOT_PACKAGING_BRANCH", str),
    "venvdeb": ("VENVDEB_BUILDBOT_VENVDEB", list),
    "smoke": ("VENVDEB_BUILDBOT_SMOKE", bool),
    "piuparts": ("VENVDEB_BUILDBOT_PIUPARTS", bool),
    "nightly_hour": ("VENVDEB_BUILDBOT_NIGHTLY_HOUR", int),
    "poll_interval": ("VENVDEB_BUILDBOT_POLL_INTERVAL", int),
    "tree_stable_timer": ("VENVDEB_BUILDBOT_TREE_STABLE_TIMER", int),
    "repo_dir": ("VENVDEB_REPO", str),
    "gnupghome": ("VENVDEB_GNUPGHOME", str),
    "state_dir": ("VENVDEB_STATE", str),
    "cache_dir": ("VENVDEB_CACHE", str),
    "upload_dir": ("VENVDEB_BUILDBOT_UPLOAD_DIR", str),
    "packaging_mirrors": ("VENVDEB_BUILDBOT_PACKAGING_MIRRORS", str),
    "max_upload_mb": ("VENVDEB_BUILDBOT_MAX_UPLOAD_MB", int),
}
# [releases.<name>] in the settings file: where a release's constraints are polled from, when its
# release file does not say (setting -> (type, meaning)).
RELEASE_KEYS = {
    "constraints_repo": (str, "The git repository the release's constraints are committed to."),
    "constraints_branch": (str, "Its branch (default: master)."),
    "constraints_files": (list, "The files whose change rebuilds the wheelhouse."),
}


@dataclass(frozen=True)
class ConstraintsRepo:
    """Where a release's constraints come from, for a git poller: a commit touching ``files`` on
    ``branch`` rebuilds the wheelhouse."""
    repo: str
    branch: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class PackagingSource:
    """The git repository builds check the packaging out from: the revision that triggered them,
    else the head of ``branch``; the packaging root is ``subdir`` of the checkout."""
    repo: str
    branch: str
    subdir: str  # "." when the packaging root is the repository's top


@dataclass(frozen=True)
class Secrets:
    users: dict = field(default_factory=dict)     # web login -> its password's hash (secrets_file.hash_password)
    admins: tuple[str, ...] = ()                  # logins with the "admins" role
    workers: dict = field(default_factory=dict)   # worker name -> password


def setting(default, doc: str):
    """A setting's default and what it means (docs/reference.md is generated from these)."""
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True)
class Settings:
    root: Path                      # the project: relative paths below are relative to it
    workers: tuple[str, ...] = setting(("local",), "The workers' names (each needs a password in the secrets file).")
    db_url: str = setting("sqlite:///state.sqlite", "Buildbot's database (a PostgreSQL URL for a farm; sqlite is "
                                                    "relative to the master's basedir).")
    www_port: int = setting(8010, "The web UI's port.")
    www_host: str = setting("127.0.0.1", "The address the web UI binds to.")
    www_tls: bool = setting(True, "HTTPS with tls_dir's certificate (self-signed, made at first start); false behind "
                                  "a proxy that terminates TLS.")
    tls_dir: str = setting("var/buildbot/tls", "Where the web UI's certificate and key are kept.")
    worker_port: int = setting(9989, "The port workers connect to.")
    worker_host: str = setting("127.0.0.1", "The address the worker port binds to.")
    secrets_file: str = setting("var/buildbot/secrets.toml", "The web logins, admins and workers' passwords (mode "
                                                             "0600, never committed).")
    repo_url: str = setting("http://127.0.0.1:8080", "The staging repository as workers reach it (they fetch the "
                                                     "wheelhouse from it).")
    packaging: str = setting("packaging", "The master's checkout of the packaging: which releases and services "
                                          "there are.")
    packaging_repo: str = setting("", "Where the master fetches the packaging from, per build (https://, ssh or a "
                                      "path: a transport that authenticates the server); default: the git "
                                      "repository the master's checkout is in. Workers get each build's commit "
                                      "from the master, over their TLS connection.")
    packaging_branch: str = setting("", "The packaging branch builds follow; default: the master's checkout's.")
    venvdeb: tuple[str, ...] = setting(("venvdeb",), "The venvdeb command on the workers and the master.")
    smoke: bool = setting(True, "Whether service builds run the smoke gate.")
    piuparts: bool = setting(True, "Whether smoke runs piuparts' test (false: quicker, for a farm that tries "
                                   "changes out).")
    nightly_hour: int | None = setting(None, "The hour (UTC) of the nightly rebuild and repository refresh; none "
                                             "without it.")
    poll_interval: int = setting(300, "Seconds between polls of git repositories and the package index.")
    tree_stable_timer: int = setting(120, "Seconds a branch must be quiet before its change builds.")
    repo_dir: str = setting("var/repo", "The reprepro repository.")
    gnupghome: str = setting("var/gnupg", "The GnuPG home with the signing key.")
    state_dir: str = setting("var/state", "The version ledgers.")
    cache_dir: str = setting("~/.cache/venvdeb", "The content-addressed cache.")
    upload_dir: str = setting("var/buildbot/uploads", "Where workers' packages are uploaded to the master (each "
                                                      "build's removed when the build ends).")
    packaging_mirrors: str = setting("var/buildbot/packaging-mirrors", "The master's own mirrors of the packaging "
                                                                     "repository, which its checkouts come from.")
    max_upload_mb: int = setting(1024, "The largest package a worker may upload, in MiB: the master stops writing "
                                       "there, and publishes nothing larger.")
    releases: dict = field(default_factory=dict)  # release name -> {constraints_repo, ...}

    def path(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def www_url(self) -> str:
        return f"{'https' if self.www_tls else 'http'}://{self.www_host}:{self.www_port}/"

    def secrets(self) -> Secrets:
        return load_secrets(self.path(self.secrets_file))


def _coerce(key: str, value, kind, where: str):
    if kind is bool and isinstance(value, str):
        if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise VenvdebError(f"{where}: {key} must be true or false, not {value!r}")
        return value.lower() in ("1", "true", "yes")
    if kind is int and isinstance(value, str):
        if not re.fullmatch(r"\d+", value):
            raise VenvdebError(f"{where}: {key} must be a number, not {value!r}")
        return int(value)
    if kind is list and isinstance(value, str):
        return tuple(v for v in re.split(r"[,\s]+", value) if v)
    if kind is list and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise VenvdebError(f"{where}: {key} must be {kind.__name__}, not {type(value).__name__}")
    return value


def load(root: Path, environ: dict | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    values: dict = {}
    config = environ.get(CONFIG_ENV)
    if config:
        path = Path(config)
        try:
            data = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise VenvdebError(f"{path}: cannot read the Buildbot settings: {exc}") from None
        releases = data.pop("releases", {})
        for key, value in data.items():
            if key not in ENVIRONMENT:
                raise VenvdebError(f"{path}: unknown setting {key!r}", hint=f"known: {', '.join(sorted(ENVIRONMENT))}")
            values[key] = _coerce(key, value, ENVIRONMENT[key][1], str(path))
        for name, table in releases.items():
            for key, value in table.items():
                if key not in RELEASE_KEYS:
                    raise VenvdebError(f"{path}: releases.{name}: unknown setting {key!r}")
                table[key] = _coerce(key, value, RELEASE_KEYS[key][0], f"{path}: releases.{name}")
        values["releases"] = releases
    for key, (var, kind) in ENVIRONMENT.items():
        if var in environ and environ[var] != "":
            values[key] = _coerce(key, environ[var], kind, f"${var}")
    settings = Settings(root=Path(root), **values)
    if not settings.workers:
        raise VenvdebError("the Buildbot settings name no worker")
    return settings


def load_secrets(path: Path) -> Secrets:
    """``[users] login = "<hash of its password>"``, ``admins = ["login"]``, ``[workers] name = "password"``.

    A missing file is not an error (checkconfig runs on fresh checkouts): nobody can log in then,
    so nobody may force a build, and the workers' passwords are random so none can connect.
    """
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return Secrets()
    except tomllib.TOMLDecodeError as exc:
        raise VenvdebError(f"{path}: malformed secrets file: {exc}") from None
    unknown = set(data) - {"users", "admins", "workers"}
    if unknown:
        raise VenvdebError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    clear = sorted(login for login, value in data.get("users", {}).items()
                   if not (isinstance(value, str) and value.startswith("scrypt$")))
    if clear:
        raise VenvdebError(f"{path}: users.{clear[0]}: a password in clear text; the file keeps its hash",
                           hint="replace it with what 'python -m venvdeb.buildbot.secrets_file' prints for it")
    return Secrets(users=dict(data.get("users", {})), admins=tuple(data.get("admins", ())),
                   workers=dict(data.get("workers", {})))


def worker_password(secrets_: Secrets, name: str) -> str:
    # Unguessable rather than a well-known default: a worker without a configured password cannot
    # connect, where "local-worker" would let anyone who reaches the port run builds.
    return secrets_.workers.get(name) or secrets.token_urlsafe(24)


def write_secrets(path: Path, users: dict, admins: list[str], workers: dict) -> None:
    """Write a secrets file readable by its owner only (make master uses it)."""
    def table(d: dict) -> str:
        return "".join(f'{json_string(k)} = {json_string(v)}\n' for k, v in d.items())

    text = (f"admins = [{', '.join(json_string(a) for a in admins)}]\n\n[users]\n{table(users)}\n"
            f"[workers]\n{table(workers)}")
    write_atomic(path, text.encode(), mode=0o600)


def json_string(value: str) -> str:
    import json

    return json.dumps(value)  # a JSON string is a valid TOML basic string


OPENDEV_RAW = re.compile(r"(?P<repo>https://opendev\.org/[^/]+/[^/]+)/raw/branch/(?P<branch>.+)/(?P<file>[^/]+)$")


def constraints_repo(settings: Settings, release) -> ConstraintsRepo | None:
    """The git repository and branch a release's constraints come from, or None if unknown.

    Explicit settings win. Otherwise an opendev raw URL names its repository and branch, and a
    local constraints file belongs to the git checkout it is in (the packaging repository).
    """
    own = settings.releases.get(release.name, {})
    if own.get("constraints_repo"):
        return ConstraintsRepo(own["constraints_repo"], own.get("constraints_branch", "master"),
                               tuple(own.get("constraints_files", ())))
    source = release.constraints
    if source.url:
        m = OPENDEV_RAW.match(source.url)
        return ConstraintsRepo(m["repo"], m["branch"], (m["file"],)) if m else None
    files = [p for p in (source.path, source.requirements_in) if p]
    if not files:
        return None
    top = _git(files[0].parent, "rev-parse", "--show-toplevel")
    branch = _git(files[0].parent, "symbolic-ref", "--short", "HEAD")
    if not top or not branch:
        return None
    relative = tuple(str(Path(f).resolve().relative_to(Path(top).resolve())) for f in files)
    packaging = packaging_source(settings)
    root_top = _git(settings.path(settings.packaging), "rev-parse", "--show-toplevel")
    if packaging and root_top and Path(root_top).resolve() == Path(top).resolve():
        # In the packaging repository: commits are pushed there, not to the master's checkout.
        return ConstraintsRepo(packaging.repo, packaging.branch, relative)
    return ConstraintsRepo(top, branch, relative)


AUTHENTICATED = ("https://", "ssh://", "file://")


def authenticated_url(url: str) -> bool:
    """A repository the master fetches over a transport that authenticates the server (TLS, ssh),
    or on its own disk; git:// and http:// authenticate nothing, and anyone on the way could hand
    the master other packaging."""
    # Without a scheme: scp-like ssh ("git@host:path"), or a path on the master.
    return url.startswith(AUTHENTICATED) or "://" not in url


def packaging_source(settings: Settings) -> PackagingSource | None:
    """Where builds take the packaging from, or None when the master's packaging root is in no git
    checkout and no repository is set (then builds read the master's root: one machine only)."""
    root = settings.path(settings.packaging)
    top = _git(root, "rev-parse", "--show-toplevel")
    if not top:
        if settings.packaging_repo:
            raise VenvdebError(f"packaging_repo is set ({settings.packaging_repo}) but the master's packaging root "
                               f"{root} is not a git checkout",
                               hint="the master reads its builders from a checkout of that repository: clone it there")
        return None
    if settings.packaging_repo and not authenticated_url(settings.packaging_repo):
        raise VenvdebError(f"packaging_repo {settings.packaging_repo}: git:// and http:// authenticate no server, "
                           "and anyone on the way could hand the master other packaging",
                           hint="fetch it over https:// or ssh, or from a path on the master")
    branch = settings.packaging_branch or _git(root, "symbolic-ref", "--short", "HEAD")
    if not branch:
        # A detached checkout (a CI job's) follows no branch: nothing to poll, nothing to build
        # when forced. The master's root then serves, as without git; packaging_branch says which.
        return None
    subdir = Path(root).resolve().relative_to(Path(top).resolve()).as_posix()
    return PackagingSource(settings.packaging_repo or top, branch, subdir)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None
