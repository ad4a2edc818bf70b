"""A one-pin constraints bump through Buildbot: from the commit to the one service it touches in staging.

A real master and one local worker on 127.0.0.1, over a copy of this project's git repository
(the packaging repository: the farm checks each build's revision out of it). First, untimed, the
wheelhouse of 2025.2 on bookworm and its seven services are built and published. Then a commit
moves one pin of the lock that only horizon's closure has (xstatic-d3, to the next release on
PyPI, with its hashes) and is pushed: the farm polls it, rebuilds the wheelhouse, which triggers
every service builder of the release; each plans, and only horizon builds. Measured: the time from
the push to horizon's new version in staging, and which builds ran (1 wheelhouse + 1 service, the
other six skipped). Smoke is off (the farm's `smoke = false`): what is measured is what is rebuilt.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, cache_dir as default_cache  # noqa: E402
from venvdeb.http import free_port  # noqa: E402

RELEASE, DIST = "2025.2", "bookworm"
POINT = f"{RELEASE}-{DIST}"
PIN, TOUCHES = "xstatic-d3", "horizon"
LOCK = f"packaging/locks/{RELEASE}.txt"


def git(*args, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def bumped(lock: str) -> tuple[str, str, str]:
    """The lock with PIN at its next release on PyPI (its files' hashes): (text, old, new)."""
    m = re.search(rf"^{PIN}==(\S+) \\\n((?:    --hash=sha256:\w+(?: \\)?\n)+)", lock, re.M)
    old = m[1]
    with urllib.request.urlopen(f"https://pypi.org/pypi/{PIN}/json", timeout=60) as r:
        releases = json.load(r)["releases"]
    from packaging.version import Version

    new = min((v for v in releases if Version(v) > Version(old) and releases[v]), key=Version)
    hashes = sorted(f["digests"]["sha256"] for f in releases[new])
    block = f"{PIN}=={new} \\\n" + " \\\n".join(f"    --hash=sha256:{h}" for h in hashes) + "\n"
    return lock[:m.start()] + block + lock[m.end():], old, new


def main() -> None:
    from venvdeb.buildbot.local import Farm
    from venvdeb.buildbot.schedulers import identifier
    from venvdeb.model import load_release
    from venvdeb.repository import Repository
    from venvdeb.repository.signing import Key, fingerprints, stop_agent

    work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-bump-"))
    cache_dir = default_cache()
    try:
        bare, checkout = work / "project.git", work / "project"
        git("clone", "-q", "--bare", str(PROJECT), str(bare), cwd=work)
        git("clone", "-q", str(bare), str(checkout), cwd=work)
        branch = git("symbolic-ref", "--short", "HEAD", cwd=checkout)
        release = load_release(checkout / "packaging", RELEASE)
        www, pb, repo_port = free_port(), free_port(), free_port()
        config = work / "buildbot.toml"
        config.write_text("\n".join([
            f"www_port = {www}", f"worker_port = {pb}", f'repo_url = "http://127.0.0.1:{repo_port}"',
            f'packaging = "{checkout / "packaging"}"', f'packaging_repo = "{bare}"', f'packaging_branch = "{branch}"',
            f'secrets_file = "{work / "secrets.toml"}"', f'repo_dir = "{work / "repo"}"',
            f'gnupghome = "{work / "gnupg"}"', f'state_dir = "{work / "state"}"', f'upload_dir = "{work / "uploads"}"',
            f'cache_dir = "{cache_dir}"', "smoke = false", "poll_interval = 5", "tree_stable_timer = 5",
            'workers = ["w1"]',
        ]) + "\n")
        farm = Farm(root=PROJECT, base=work / "bb", workers=("w1",), env={"VENVDEB_BUILDBOT_CONFIG": str(config)})
        (work / "bb").mkdir()
        services = [f"{POINT}-venv-{s.name}" for s in release.services]
        wheelhouse_builder = f"wheelhouse-{POINT}"
        try:
            password = farm.ensure_secrets()
            farm.create()
            farm.start()
            api = farm.api()
            api.wait(lambda: any(w["name"] == "w1" and w["connected_to"] for w in api.get("workers")["workers"]),
                     120, "the worker")
            api.login("admin", password)

            # Untimed: every package built and published once.
            setup_start = time.monotonic()
            first = api.wait_request(api.force(identifier(f"force-wheelhouse-{POINT}"), wheelhouse_builder,
                                               reason="bench: first", trigger_services=True), 3600)
            if first["results"] != 0:
                raise SystemExit(f"the wheelhouse build failed: {api.steps(first)}")
            api.wait(lambda: all(api.builds(b) and api.builds(b)[-1]["complete"] for b in services), 3600,
                     "the first service builds")
            bad = [b for b in services if api.builds(b)[-1]["results"] != 0]
            if bad:
                raise SystemExit(f"first builds failed: {bad}")
            setup_s = round(time.monotonic() - setup_start, 1)
            home = work / "gnupg"
            repo = Repository(work / "repo", Key(home, fingerprints(home)[0]))

            def staged() -> dict:
                return {p.package: p.version for p in repo.list(release.at(DIST).staging_suite)}

            before_versions = staged()
            counts = {b: len(api.builds(b)) for b in [wheelhouse_builder, *services]}

            # Timed: the commit, pushed; until the touched service's new version is in staging.
            lock = checkout / LOCK
            text, old, new = bumped(lock.read_text())
            lock.write_text(text)
            git("commit", "-q", "-am", f"Bump {PIN} {old} -> {new}", cwd=checkout)
            git("push", "-q", "origin", branch, cwd=checkout)
            start = time.monotonic()
            package = f"venv-{TOUCHES}"
            api.wait(lambda: staged().get(package) != before_versions.get(package), 3600,
                     f"{package}'s new version in staging")
            to_staging = round(time.monotonic() - start, 1)
            after_versions = staged()
            api.wait(lambda: all(len(api.builds(b)) > counts[b] and api.builds(b)[-1]["complete"] for b in services),
                     1800, "every triggered service build")
            time.sleep(15)  # more than the poll interval and the tree-stable timer: nothing else starts
            ran = {}
            for b in [wheelhouse_builder, *services]:
                new_builds = api.builds(b)[counts[b]:]
                ran[b] = [("built" if dict(api.steps(x)).get("plan") != 3 else "skipped") if b in services
                          else "built" for x in new_builds]
        finally:
            farm.stop()
            stop_agent(work / "gnupg")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    built = [b for b, r in ran.items() if "built" in r]
    skipped = [b for b, r in ran.items() if r == ["skipped"]]
    data = {"pin": PIN, "from": old, "to": new, "commit_to_staging_s": to_staging, "setup_s": setup_s,
            "builds": ran, "staging_before": before_versions, "staging_after": after_versions}
    table = [
        f"# A one-pin constraints bump through Buildbot: {RELEASE} on {DIST}",
        "",
        "Reproduce: `make bench-constraints-bump`. One master and one worker; the packaging is a copy of this",
        f"project's git repository. After every package of the release is built once (untimed: {setup_s} s), a commit",
        f"moves `{PIN}` from {old} to {new} in `{LOCK}` (only {TOUCHES}'s closure has it) and is pushed.",
        "",
        "| from the push to | s |",
        "|---|---:|",
        f"| venv-{TOUCHES} {after_versions.get('venv-' + TOUCHES)} in staging (was "
        f"{before_versions.get('venv-' + TOUCHES)}) | {to_staging} |",
        "",
        f"Builds run after the push: {len(built)} built ({', '.join(built)}), {len(skipped)} skipped "
        f"({', '.join(s.removeprefix(POINT + '-') for s in skipped)}): 1 wheelhouse + 1 service, not 1 + "
        f"{len(services)}.",
    ]
    record("constraints_bump", data, table)


if __name__ == "__main__":
    main()
