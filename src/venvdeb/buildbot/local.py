"""A master, local workers and the repository's HTTP server on 127.0.0.1: `make master`, tests, bench.

``python -m venvdeb.buildbot.local start|stop [--workers N]`` (run from the project directory).
The first start writes the secrets file (an admin password, printed once, and the workers'
passwords), creates the master's and workers' base directories under var/buildbot/, initialises
the repository, and starts everything; later starts reuse them.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..environment.stale import alive as _alive
from ..repository.signing import stop_agent
from . import settings as settings_mod, tls
from .secrets_file import hash_password

PROJECT = Path(__file__).resolve().parents[3]


def tools_env(extra: dict | None = None) -> dict:
    """The environment of the processes started here: this venv's commands first on PATH, so
    workers find `venvdeb` and the master finds `buildbot` without an absolute path in config."""
    env = dict(os.environ, **(extra or {}))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return env


def run(argv: list[str], env: dict, cwd: Path | None = None) -> None:
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")


@dataclass
class Farm:
    """A master, its workers and the repository server, configured by ``env`` (the settings)."""

    root: Path                # the project: master.cfg is there
    base: Path                # where the base directories go
    env: dict                 # VENVDEB_BUILDBOT_* and VENVDEB_* for the master
    workers: tuple[str, ...] = ("local",)
    # Workers as on machines of their own: each with a home (so a ~/.cache/venvdeb) of its own, in
    # a mount namespace where the master's directories and the other workers' are not there (an
    # empty read-only tmpfs over each, /dev/null over a file), so what a build needs must come over
    # TCP: the master's connection, the repository's HTTP server, git (``hidden``: more to hide,
    # such as local git repositories the workers must reach through a git daemon instead).
    isolated: bool = False
    hidden: tuple[Path, ...] = ()
    # More environment for a worker, by name: a test's rogue worker finds another venvdeb first on
    # its PATH.
    worker_env: dict = field(default_factory=dict)

    @property
    def settings(self) -> settings_mod.Settings:
        return settings_mod.load(self.root, self.env)

    def api(self):
        """The master's REST API, trusting its TLS certificate."""
        from .rest import Api
        from .tls import CERT

        s = self.settings
        return Api(s.www_url, cafile=str(s.path(s.tls_dir) / CERT) if s.www_tls else None)

    def bin(self, name: str) -> str:
        return str(Path(sys.executable).parent / name)

    def ensure_secrets(self) -> str | None:
        """Write the secrets file if there is none; return the new admin password (else None)."""
        path = self.settings.path(self.settings.secrets_file)
        if path.exists():
            known = settings_mod.load_secrets(path)
            missing = {w: secrets.token_urlsafe(24) for w in self.workers if w not in known.workers}
            if missing:  # more local workers than last time: give the new ones passwords
                settings_mod.write_secrets(path, known.users, list(known.admins), {**known.workers, **missing})
            return None
        password = secrets.token_urlsafe(18)
        settings_mod.write_secrets(path, {"admin": hash_password(password)}, ["admin"],
                                   {w: secrets.token_urlsafe(24) for w in self.workers})
        return password

    def create(self) -> None:
        s = self.settings
        env = tools_env(self.env)
        run([self.bin("venvdeb"), "--packaging", str(s.path(s.packaging)), "repo", "init", "--make-key",
             "--repo-dir", str(s.path(s.repo_dir)), "--gnupghome", str(s.path(s.gnupghome))], env)
        master = self.base / "master"
        if not (master / "buildbot.tac").exists():
            run([self.bin("buildbot"), "create-master", "--quiet", "--config", str(self.root / "master.cfg"),
                 "--db", s.db_url, str(master)], env)
        secrets_ = s.secrets()
        # The worker port's certificate, which each worker pins: a copy in the worker's own directory.
        cert, _ = tls.ensure_certificate(s.path(s.tls_dir) / tls.WORKERS, s.worker_host)
        for name in self.workers:
            basedir = self.base / f"worker-{name}"
            if not (basedir / "buildbot.tac").exists():
                trust = basedir / "master-certificate"
                trust.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(cert, trust / "master.pem")
                run([self.bin("buildbot-worker"), "create-worker", "--quiet", "--umask=0o022",
                     "--connection-string", tls.worker_connection(s.worker_host, s.worker_port, trust),
                     str(basedir), f"{s.worker_host}:{s.worker_port}", name, secrets_.workers[name]], env)

    def start(self) -> None:
        s = self.settings
        env = tools_env(self.env)
        self.start_repo_server()
        run([self.bin("buildbot"), "start", str(self.base / "master")], env)
        for name in self.workers:
            basedir = self.base / f"worker-{name}"
            start = [self.bin("buildbot-worker"), "start", str(basedir)]
            mine = dict(env, **self.worker_env.get(name, {}))
            if not self.isolated:
                run(start, mine)
                continue
            (basedir / "home").mkdir(exist_ok=True)
            run(hiding(self.not_for(name)) + start, dict(mine, HOME=str(basedir / "home")))
        print(f"master: {s.www_url}  (workers: {', '.join(self.workers)}; repository: {s.repo_url})")

    def not_for(self, name: str) -> list[Path]:
        """What worker ``name`` must not see: the master's, and the other workers'."""
        s = self.settings
        mine = [s.path(v) for v in (s.repo_dir, s.gnupghome, s.state_dir, s.upload_dir, s.tls_dir, s.packaging,
                                    s.cache_dir)]
        for path in mine[:5]:
            path.mkdir(parents=True, exist_ok=True)  # hidden now, though made later
        others = [self.base / f"worker-{w}" for w in self.workers if w != name]
        return [self.base / "master", s.path(s.secrets_file), *mine, *others, *self.hidden]

    def start_repo_server(self) -> None:
        s = self.settings
        pidfile = self.base / "repo-serve.pid"
        if pidfile.exists() and _alive(int(pidfile.read_text())):
            return
        url = s.repo_url.split("://", 1)[1].rstrip("/")
        host, _, port = url.partition(":")
        log = open(self.base / "repo-serve.log", "ab")
        proc = subprocess.Popen([self.bin("venvdeb"), "repo", "serve", "--host", host, "--port", port or "80",
                                 "--repo-dir", str(s.path(s.repo_dir)), "--gnupghome", str(s.path(s.gnupghome))],
                                env=tools_env(self.env), stdout=log, stderr=log, start_new_session=True)
        pidfile.write_text(str(proc.pid))

    def stop(self) -> None:
        env = tools_env(self.env)
        # Each stop is tried whatever the others did: a half-started farm must still go away.
        for name in self.workers:
            _stop(self.base / f"worker-{name}", [self.bin("buildbot-worker"), "stop"], env)
        _stop(self.base / "master", [self.bin("buildbot"), "stop"], env)
        pidfile = self.base / "repo-serve.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text())
            if _alive(pid):
                os.kill(pid, signal.SIGTERM)
                for _ in range(50):
                    if not _alive(pid):
                        break
                    time.sleep(0.1)
            pidfile.unlink()
        # Signing the repository started a gpg-agent for its key's home: it goes with the rest.
        stop_agent(self.settings.path(self.settings.gnupghome))


# Run in a new mount namespace (unshare), its mounts private: hide each path given, then the command.
_HIDE = """set -e
n=$1; shift
i=0
while [ $i -lt $n ]; do
  if [ -d "$1" ]; then mount -t tmpfs -o ro,size=4k,mode=0755 hidden "$1"
  elif [ -e "$1" ]; then mount --bind -o ro /dev/null "$1"
  fi
  i=$((i + 1)); shift
done
exec "$@"
"""


def hiding(paths: list[Path]) -> list[str]:
    """The argv prefix that runs a command with ``paths`` out of its sight."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", _HIDE, "hide", str(len(paths)),
            *map(str, paths)]


def _stop(basedir: Path, stop: list[str], env: dict) -> None:
    """Stop a master or worker; one that outlives its stop command (a master waiting on a build
    that will not end) is killed: nothing started here may outlive the farm."""
    pidfile = basedir / "twistd.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text())
    subprocess.run([*stop, str(basedir)], env=env, capture_output=True)
    for _ in range(100):
        if not _alive(pid):
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m venvdeb.buildbot.local", description=__doc__.splitlines()[0])
    p.add_argument("action", choices=("start", "stop"))
    p.add_argument("--base", type=Path, default=Path("var/buildbot"), help="where base directories go")
    p.add_argument("--workers", type=int, default=1, help="how many local workers (default: 1)")
    args = p.parse_args(argv)
    workers = tuple("local" if i == 0 else f"local{i + 1}" for i in range(args.workers))
    env = {k: v for k, v in os.environ.items() if k.startswith("VENVDEB_")}
    env.setdefault("VENVDEB_BUILDBOT_WORKERS", ",".join(workers))
    farm = Farm(root=Path.cwd(), base=args.base.resolve(), env=env, workers=workers)
    farm.base.mkdir(parents=True, exist_ok=True)
    if args.action == "stop":
        farm.stop()
        return 0
    password = farm.ensure_secrets()
    farm.create()
    farm.start()
    if password:
        print(f"admin password (shown once; kept in {farm.settings.secrets_file}): {password}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
