"""One service build through Buildbot against `venvdeb pipeline` for the same service. Issue 11's
target was 1.3 times the CLI; issue 25 adds the master's independent rebuild of the package (which
promotion requires, and the CLI does not run) and allows 1.5 times.

Both start from a warm wheelhouse (built, and in Buildbot published, before the clock starts)
and a warm chroot image, each with a repository of its own. The CLI: `venvdeb pipeline` (the
unchanged wheelhouse, build, lint beside smoke, publish). Buildbot: a real master and one worker
on 127.0.0.1; the service build is forced as admin and timed from the force to its end: the
packaging from the master, the wheelhouse over HTTP, build, upload, lint beside smoke on the
master, publish, and the master's rebuild of the package, compared byte for byte.

usage: python bench/buildbot_vs_cli.py [SERVICE]   (default nova, of 2026.1 on bookworm)
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, venvdeb, cache_dir as default_cache  # noqa: E402
from venvdeb.http import free_port  # noqa: E402

RELEASE, DIST = "2026.1", "bookworm"
TARGET = 1.5  # issue 25: with the master's independent rebuild


def cli(service: str, work: Path, cache_dir: Path) -> tuple[float, dict]:
    repo = ["--repo-dir", str(work / "repo"), "--gnupghome", str(work / "gnupg")]
    dirs = ["--cache-dir", str(cache_dir), "--out-dir", str(work / "out"), "--state-dir", str(work / "state")]
    packaging = ["--packaging", str(PROJECT / "packaging")]
    venvdeb(*packaging, "repo", "init", "--make-key", *repo)
    venvdeb(*packaging, "wheelhouse", "build", RELEASE, "--dist", DIST, *dirs)  # warm, not timed
    wall, result, _ = venvdeb(*packaging, "pipeline", RELEASE, service, "--dist", DIST, "--reason", "bench",
                              *dirs, *repo)
    return wall, {(s["package"], s["stage"]): s["seconds"] for s in result["stages"]}, smoke_checks(work, service)


def smoke_checks(work: Path, service: str) -> dict:
    """Smoke's checks and their seconds, from the gate record the run left in its repository."""
    import json

    (record_file,) = (work / "repo" / "gates").glob(f"venv-{service}_*.json")
    # The APIs' ports differ from run to run: the names without them, to be compared.
    return {re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1", c["name"]): c["seconds"]
            for c in json.loads(record_file.read_text())["smoke"]["checks"]}


def buildbot(service: str, work: Path, cache_dir: Path) -> tuple[float, dict]:
    from venvdeb.buildbot.local import Farm
    from venvdeb.buildbot.schedulers import identifier
    from venvdeb.repository.signing import stop_agent

    www, pb, repo_port = free_port(), free_port(), free_port()
    config = work / "buildbot.toml"
    config.write_text("\n".join([
        f"www_port = {www}", f"worker_port = {pb}", f'repo_url = "http://127.0.0.1:{repo_port}"',
        f'packaging = "{PROJECT / "packaging"}"', f'secrets_file = "{work / "secrets.toml"}"',
        f'repo_dir = "{work / "repo"}"', f'gnupghome = "{work / "gnupg"}"', f'state_dir = "{work / "state"}"',
        f'upload_dir = "{work / "uploads"}"', f'cache_dir = "{cache_dir}"', "smoke = true",
    ]) + "\n")
    base = work / "bb"
    base.mkdir(parents=True)
    farm = Farm(root=PROJECT, base=base, env={"VENVDEB_BUILDBOT_CONFIG": str(config)})
    try:
        password = farm.ensure_secrets()
        farm.create()
        farm.start()
        api = farm.api()
        api.wait(lambda: any(w["connected_to"] for w in api.get("workers")["workers"]), 120, "the worker")
        api.login("admin", password)
        point = f"{RELEASE}-{DIST}"
        wheelhouse = api.wait_request(api.force(identifier(f"force-wheelhouse-{point}"), f"wheelhouse-{point}",
                                                reason="bench: the wheelhouse, not timed"))
        if wheelhouse["results"] != 0:
            raise SystemExit(f"the wheelhouse build failed: {api.steps(wheelhouse)}")
        builder = f"{point}-venv-{service}"
        start = time.monotonic()
        build = api.wait_request(api.force(identifier(f"force-{builder}"), builder, reason="bench"), 1800)
        wall = time.monotonic() - start
        if build["results"] != 0:
            said = [(s["name"], s["state_string"]) for s in api.get(f"builds/{build['buildid']}/steps")["steps"]
                    if s["results"] not in (0, 3)]
            raise SystemExit(f"the {builder} build failed: {said}")
        steps = api.get(f"builds/{build['buildid']}/steps")["steps"]
        return (wall, {s["name"]: round((s["complete_at"] or 0) - (s["started_at"] or 0), 1) for s in steps},
                smoke_checks(work, service))
    finally:
        farm.stop()
        stop_agent(work / "gnupg")


def main(service: str = "nova") -> None:
    cache_dir = default_cache()
    from venvdeb.environment import images

    # Both images smoke uses, made before either run: the first run would otherwise pay for them.
    smoke_image = images.smoke(DIST, cache_dir)
    smoke_image.ensure()
    images.with_piuparts(smoke_image).ensure()
    runs = {}
    for name, run in (("cli", cli), ("buildbot", buildbot)):
        work = Path(tempfile.mkdtemp(prefix=f"venvdeb-bench-{name}-"))
        runs[name] = run(service, work, cache_dir)  # a failed run's directory stays, to read
        shutil.rmtree(work, ignore_errors=True)
    (cli_wall, cli_stages, cli_checks), (bb_wall, bb_steps, bb_checks) = runs["cli"], runs["buildbot"]
    ratio = bb_wall / cli_wall
    pkg = f"venv-{service}"
    table = [
        f"# venv-{service} of {RELEASE} on {DIST}: one build through Buildbot against `venvdeb pipeline`",
        "",
        "Reproduce: `make bench-buildbot-cli`. Warm wheelhouse and chroot image; each run has its own repository.",
        "",
        "| | wall (s) |",
        "|---|---:|",
        f"| `venvdeb pipeline` (build {cli_stages[(pkg, 'build')]:.1f} s, lint {cli_stages[(pkg, 'lint')]:.1f} s "
        f"beside smoke {cli_stages[(pkg, 'smoke')]:.1f} s) | {cli_wall:.1f} |",
        f"| Buildbot, one worker, from the force to the build's end | {bb_wall:.1f} |",
        "",
        "Buildbot's steps (s): " + ", ".join(f"{name} {seconds}" for name, seconds in bb_steps.items()),
        "",
        f"**Buildbot / CLI = {ratio:.2f}x**, target at most {TARGET}x: {'met' if ratio <= TARGET else 'NOT met'}.",
        "",
        "Smoke's checks (s), the CLI's smoke against the master's:",
        "",
        "| check | CLI | Buildbot |",
        "|---|---:|---:|",
        *(f"| {name} | {cli_checks.get(name, '')} | {bb_checks.get(name, '')} |" for name in cli_checks),
    ]
    record("buildbot_vs_cli", {"service": service, "release": RELEASE, "distribution": DIST,
                               "cli_wall_s": round(cli_wall, 1), "buildbot_wall_s": round(bb_wall, 1),
                               "ratio": round(ratio, 2), "buildbot_steps_s": bb_steps,
                               "smoke_checks_s": {"cli": cli_checks, "buildbot": bb_checks}}, table)


if __name__ == "__main__":
    main(*sys.argv[1:])
