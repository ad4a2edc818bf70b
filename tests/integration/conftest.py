"""Integration tests: real PyPI, real dpkg-buildpackage, real lintian."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PROJECT, write
from venvdeb.buildbot.local import Farm
from venvdeb.http import free_port
from venvdeb.repository.signing import stop_agent

pytestmark = [pytest.mark.integration, pytest.mark.network]

# A small real closure: requests and what it needs, pinned as upper-constraints are.
TINY_UC = """\
requests===2.32.4
urllib3===1.26.20
idna===3.10
certifi===2025.8.3
charset-normalizer===3.4.2
# not for this interpreter: must be skipped
idna===2.5;python_version=='2.7'
"""


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """One cache for the session: the build environment is made once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def venvdeb(tmp_path, cache_dir):
    """Run the real CLI; returns (exit code, parsed JSON stdout or None, stderr)."""

    def run(*args, root: Path, state: Path | None = None, out: Path | None = None, cache: Path | None = None):
        argv = [sys.executable, "-m", "venvdeb", "--packaging", str(root), *args,
                "--cache-dir", str(cache or cache_dir), "--out-dir", str(out or tmp_path / "out"),
                "--state-dir", str(state or tmp_path / "state"), "--json"]
        proc = subprocess.run(argv, capture_output=True, text=True)
        try:
            data = json.loads(proc.stdout) if proc.stdout.strip() else None
        except json.JSONDecodeError:
            data = None
        return proc.returncode, data, proc.stderr

    return run


def both_distributions(root: Path, name: str = "t1") -> None:
    """The release written by make_root, for bookworm and trixie."""
    release = root / "releases" / f"{name}.toml"
    text = release.read_text().replace('distribution = "bookworm"', 'distributions = ["bookworm", "trixie"]')
    release.write_text(text.replace(f'"bookworm-{name}', f'"{{distribution}}-{name}'))


def debs_under(path: Path) -> list[Path]:
    return sorted(path.rglob("*.deb")) if path.exists() else []


@pytest.fixture(scope="module", autouse=True)
def purge_test_wheelhouses():
    yield
    installed = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\\n", "test-wheelhouse-*"],
                               capture_output=True, text=True).stdout.split()
    if installed:
        subprocess.run(["dpkg", "--purge", *installed], capture_output=True)


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.org", "PATH": "/usr/bin:/bin",
                        "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)})


@pytest.fixture
def upstream(tmp_path) -> Path:
    """A bare repository with a pbr project: tagged 1.0.0 on stable/2025.2, then two commits."""
    work = tmp_path / "work"
    write(work / "pyproject.toml", """
        [build-system]
        requires = ["pbr>=6.0.0", "setuptools>=64"]
        build-backend = "pbr.build"
    """)
    write(work / "setup.cfg", """
        [metadata]
        name = gitsvc
        summary = A service from git
        author = Test
        license = Apache-2.0

        [files]
        packages = gitsvc

        [entry_points]
        console_scripts =
            gitsvc = gitsvc:main
    """)
    write(work / "setup.py", "import setuptools\nsetuptools.setup(pbr=True)\n")
    write(work / "requirements.txt", "idna>=3\n")
    write(work / "gitsvc" / "__init__.py", "def main():\n    print('gitsvc works')\n")
    git("init", "-q", "-b", "stable/2025.2", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "Initial", cwd=work)
    git("tag", "-a", "1.0.0", "-m", "1.0.0", cwd=work)
    for n in (1, 2):
        (work / "gitsvc" / f"m{n}.py").write_text(f"X = {n}\n")
        git("add", ".", cwd=work)
        git("commit", "-q", "-m", f"Fix number {n}", cwd=work)
    bare = tmp_path / "gitsvc.git"
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    return bare


def git_release(make_root, name: str, upstream: Path, release_extra: str = "") -> Path:
    """A packaging root whose release's one service, gitsvc, comes from ``upstream``'s stable branch."""
    root = make_root(TINY_UC, {}, name=name, release_extra=release_extra)
    release = root / "releases" / f"{name}.toml"
    release.write_text(release.read_text().replace("services = []", 'services = ["gitsvc"]'))
    write(root / "services" / "gitsvc.toml", f"""
        name = "gitsvc"
        summary = "Service from a stable branch"
        console_scripts = ["gitsvc"]
        smoke_commands = ["gitsvc"]

        [source]
        git = "{upstream}"
        branch = "stable/2025.2"
    """)
    return root


@pytest.fixture
def farm(make_root, tmp_path, cache_dir, upstream):
    yield from _farm(make_root, tmp_path, cache_dir, upstream, smoke=False)


@pytest.fixture
def smoke_farm(make_root, tmp_path, cache_dir, upstream):
    """The farm with smoke on: service builds run lintian beside smoke, both on the master."""
    yield from _farm(make_root, tmp_path, cache_dir, upstream, smoke=True)


@pytest.fixture
def share_nothing_farm(make_root, tmp_path, cache_dir, upstream):
    """The farm with two workers that share no directory with the master or each other: each in a
    mount namespace of its own where the master's directories, the other worker's and the git
    repositories are hidden, with a home (and so a cache) of its own. They reach the master (which
    sends them the packaging), the repository and the upstream git service (a git daemon) over TCP
    on 127.0.0.1. The release has a second service, from PyPI, and takes its constraints from the
    packaging repository, which the master reads from its own disk."""
    with git_daemon(tmp_path) as port:
        yield from _farm(make_root, tmp_path, cache_dir, upstream, smoke=False, workers=("w1", "w2"),
                         git_url=f"git://127.0.0.1:{port}")


@contextmanager
def git_daemon(base: Path):
    """``git daemon`` serving the repositories under ``base`` read-only on 127.0.0.1; yields its port."""
    port = free_port()
    proc = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={base}",
                             "--listen=127.0.0.1", f"--port={port}", str(base)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _farm(make_root, tmp_path, cache_dir, upstream, smoke: bool, settings: str = "", workers=("local",),
          git_url: str | None = None, packaging: Path | None = None, worker_env: dict | None = None):
    """A master and one worker (or ``workers``) for release b1 (gitsvc), or for the packaging root
    ``packaging``; ``settings``: more of buildbot.toml; ``git_url``: the workers share nothing with
    the master (see share_nothing_farm) and reach git repositories under tmp_path there."""
    def url(repo: Path) -> str:
        return f"{git_url}/{repo.name}" if git_url else str(repo)

    if packaging is None:
        packaging = git_release(make_root, "b1", url(upstream))
    if git_url:
        release = packaging / "releases" / "b1.toml"
        release.write_text(release.read_text().replace('services = ["gitsvc"]', 'services = ["gitsvc", "cn"]'))
        write(packaging / "services" / "cn.toml", """
            name = "cn"
            summary = "Charset detection, from PyPI"
            console_scripts = ["normalizer"]
            smoke_commands = ["normalizer --version"]

            [source]
            pypi = "charset-normalizer"
            version = "3.4.2"
        """)
    # The packaging, as a farm keeps it: a git repository the workers check each build's revision
    # out from (the master's checkout only says which builders there are).
    git("init", "-q", "-b", "master", cwd=packaging)
    git("add", ".", cwd=packaging)
    git("commit", "-q", "-m", "Packaging", cwd=packaging)
    git("clone", "-q", "--bare", str(packaging), str(tmp_path / "packaging.git"), cwd=tmp_path)
    # The release's constraints, as upstream keeps them: a git repository the master polls. (With
    # git_url, the packaging repository's own upper-constraints.txt instead.)
    reqs = tmp_path / "requirements-work"
    write(reqs / "upper-constraints.txt", TINY_UC)
    git("init", "-q", "-b", "master", cwd=reqs)
    git("add", ".", cwd=reqs)
    git("commit", "-q", "-m", "Constraints", cwd=reqs)
    requirements = tmp_path / "requirements.git"
    git("clone", "-q", "--bare", str(reqs), str(requirements), cwd=tmp_path)
    www, pb, repo_port = free_port(), free_port(), free_port()
    constraints = "" if git_url else (f'[releases.b1]\nconstraints_repo = "{requirements}"\n'
                                      'constraints_branch = "master"\nconstraints_files = ["upper-constraints.txt"]\n')
    config = write(tmp_path / "buildbot.toml", f"""
        www_port = {www}
        worker_port = {pb}
        workers = [{", ".join(f'"{w}"' for w in workers)}]
        repo_url = "http://127.0.0.1:{repo_port}"
        packaging = "{packaging}"
        packaging_repo = "{tmp_path / 'packaging.git'}"
        secrets_file = "{tmp_path / 'secrets.toml'}"
        repo_dir = "{tmp_path / 'repo'}"
        gnupghome = "{tmp_path / 'gnupg'}"
        state_dir = "{tmp_path / 'state'}"
        upload_dir = "{tmp_path / 'uploads'}"
        tls_dir = "{tmp_path / 'tls'}"
        cache_dir = "{cache_dir}"
        smoke = {"true" if smoke else "false"}
        piuparts = false
        poll_interval = 2
        tree_stable_timer = 3
        {settings}
    """)
    if constraints:
        config.write_text(config.read_text() + constraints)
    base = tmp_path / "bb"
    base.mkdir()
    farm = Farm(root=PROJECT, base=base, env={"VENVDEB_BUILDBOT_CONFIG": str(config)}, workers=tuple(workers),
                isolated=bool(git_url), worker_env=worker_env or {},
                hidden=tuple(tmp_path / n for n in ("packaging.git", "gitsvc.git", "requirements.git", "work",
                                                     "requirements-work")))
    try:
        password = farm.ensure_secrets()
        farm.create()
        if git_url:
            seed_build_images(cache_dir, [base / f"worker-{w}" / "home" / ".cache" / "venvdeb" for w in workers])
        farm.start()
        api = farm.api()
        assert api.url.startswith("https://")
        api.wait(lambda: set(workers) <= {w["name"] for w in api.get("workers")["workers"] if w["connected_to"]}, 60,
                 "the workers")
        yield farm, api, password
    finally:
        farm.stop()
        stop_agent(tmp_path / "gnupg")
        # What the failure was, if any: the master's log is in the tmp dir, and its tail here.
        log = base / "master" / "twistd.log"
        if log.exists():
            print(log.read_text()[-4000:])


def seed_build_images(cache_dir: Path, caches: list[Path]) -> None:
    """Each worker's own cache starts with a copy of the bookworm build image (as a build host is
    provisioned with one), so that the test spends its time on builds, not on mmdebstrap: the
    workers still share nothing (a copy each), and each unpacks and uses its own."""
    from venvdeb.environment import images

    made = images.build("bookworm", cache_dir).ensure()
    for cache in caches:
        (cache / "chroots").mkdir(parents=True, exist_ok=True)
        shutil.copy2(made, cache / "chroots" / made.name)


def in_a_new_repository(root: Path, tmp_path: Path, cache_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """`venvdeb ARGS` (a command that takes the build directories: pipeline, smoke) of the packaging
    ``root``, with a new signed repository under ``tmp_path``; the gpg agent it started is stopped."""
    from venvdeb.repository.signing import stop_agent

    repo = ["--repo-dir", str(tmp_path / "repo"), "--gnupghome", str(tmp_path / "gnupg")]
    dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]

    def venvdeb(*argv):
        return subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(root), *argv],
                              capture_output=True, text=True)

    try:
        init = venvdeb("repo", "init", "--make-key", *repo)
        assert init.returncode == 0, init.stderr
        return venvdeb(*args, *dirs, *repo)
    finally:
        stop_agent(tmp_path / "gnupg")


def pipeline_in_a_new_repository(root: Path, release: str, tmp_path: Path, cache_dir: Path) -> subprocess.CompletedProcess:
    """`venvdeb pipeline RELEASE` of the packaging ``root``, publishing to a new signed repository."""
    # piuparts' test is shown by test_piuparts.py and test_pipeline.py; here it would only add time.
    return in_a_new_repository(root, tmp_path, cache_dir, "pipeline", release, "--no-piuparts")


@pytest.fixture
def browser(tmp_path):
    """Debian's headless chromium, driven by selenium."""
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium and chromium-driver are needed (make setup installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                # the farm's certificate is self-signed, made for the test
                "--ignore-certificate-errors",
                f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
