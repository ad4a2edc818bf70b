"""One release on both its distributions through Buildbot: one worker against two.

A real master, N local workers and the repository server on 127.0.0.1 (as `make master` starts
them), the packaging checked out from this repository by every build. As admin, both
distributions' wheelhouse builds are forced, then (once both are published) a build of each
benchmarked service at each distribution, all at once: the master hands them to the workers free.
The wall time runs from the first force to the last service build's end. Smoke tests are off here
(they run on the master, whatever the workers): what is measured is what more workers change,
build and lint on the workers; trixie's in a chroot of trixie.

BENCH_SERVICES (default: nova glance keystone) picks the services.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record, cache_dir as default_cache  # noqa: E402
from venvdeb.http import free_port  # noqa: E402

RELEASE, DISTS = "2026.1", ("bookworm", "trixie")
SERVICES = tuple(os.environ.get("BENCH_SERVICES", "nova glance keystone").split())
POINTS = [f"{RELEASE}-{d}" for d in DISTS]  # as builder names spell a release at a distribution


def per_worker(api, workers: tuple[str, ...], builds: list[dict]) -> dict[str, int]:
    """How many of ``builds`` each of the bench's workers ran."""
    names = {w["workerid"]: w["name"] for w in api.get("workers")["workers"]}
    return {name: sum(1 for b in builds if names.get(b.get("workerid")) == name) for name in workers}


def run_farm(workers: tuple[str, ...], work: Path, cache_dir: Path) -> dict:
    from venvdeb.buildbot.local import Farm
    from venvdeb.buildbot.schedulers import identifier
    from venvdeb.repository.signing import stop_agent

    www, pb, repo_port = free_port(), free_port(), free_port()
    config = work / "buildbot.toml"
    config.write_text("\n".join([
        f"www_port = {www}", f"worker_port = {pb}", f'repo_url = "http://127.0.0.1:{repo_port}"',
        f'packaging = "{PROJECT / "packaging"}"', f'secrets_file = "{work / "secrets.toml"}"',
        f'repo_dir = "{work / "repo"}"', f'gnupghome = "{work / "gnupg"}"', f'state_dir = "{work / "state"}"',
        f'upload_dir = "{work / "uploads"}"', f'cache_dir = "{cache_dir}"', "smoke = false",
    ]) + "\n")
    base = work / "bb"
    base.mkdir(parents=True)
    farm = Farm(root=PROJECT, base=base, workers=workers,
                env={"VENVDEB_BUILDBOT_CONFIG": str(config), "VENVDEB_BUILDBOT_WORKERS": ",".join(workers)})
    try:
        password = farm.ensure_secrets()
        farm.create()
        farm.start()
        api = farm.api()
        # (The master's own worker, for promotion and rollback, is not one of them.)
        api.wait(lambda: sum(bool(w["connected_to"]) for w in api.get("workers")["workers"]
                             if w["name"] in workers) == len(workers),
                 120, "the workers")
        api.login("admin", password)
        start = time.monotonic()
        requests = {p: api.force(identifier(f"force-wheelhouse-{p}"), f"wheelhouse-{p}", reason="bench")
                    for p in POINTS}
        wheelhouses = {p: api.wait_request(r, 1800) for p, r in requests.items()}
        for p, build in wheelhouses.items():
            if build["results"] != 0:
                raise SystemExit(f"the wheelhouse build of {p} failed: {api.steps(build)}")
        services = [f"{p}-venv-{s}" for p in POINTS for s in SERVICES]
        requests = [api.force(identifier(f"force-{b}"), b, reason="bench") for b in services]
        done = [api.wait_request(r, 3600) for r in requests]
        wall = time.monotonic() - start
        failed = [b["builderid"] for b in done if b["results"] != 0]
        if failed:
            raise SystemExit(f"service builds failed: {failed}")
        per_build = {name: round(b["complete_at"] - b["started_at"], 1) for name, b in zip(services, done)}
        return {"workers": len(workers), "wall_s": round(wall, 1),
                "wheelhouse_s": {p: round(b["complete_at"] - b["started_at"], 1) for p, b in wheelhouses.items()},
                "builds_s": per_build,
                "per_worker": per_worker(api, workers, done)}
    finally:
        farm.stop()
        stop_agent(work / "gnupg")


def main() -> None:
    cache_dir = default_cache()
    results = []
    for workers in (("w1",), ("w1", "w2")):
        work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-bb-"))
        try:
            results.append(run_farm(workers, work, cache_dir))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    one, two = results
    table = [
        f"# Buildbot: {', '.join(SERVICES)} of {RELEASE} on {' and '.join(DISTS)}, one worker against two",
        "",
        "Reproduce: `make bench-buildbot`. From the first forced wheelhouse build to the last service build's",
        "end: both wheelhouses, then every service build at once (fetch the wheelhouse over HTTP, build, lintian,",
        "upload, publish on the master); trixie's in a chroot of trixie. Smoke is off (it runs on the master).",
        "",
        "| workers | wall (s) | wheelhouses (s) | builds per worker | " + " | ".join(one["builds_s"]) + " |",
        "|---:|---:|---:|---|" + "---:|" * len(one["builds_s"]),
    ]
    for r in results:
        table.append(f"| {r['workers']} | {r['wall_s']} | {' + '.join(str(v) for v in r['wheelhouse_s'].values())} | "
                     f"{', '.join(f'{w}: {n}' for w, n in r['per_worker'].items())} | "
                     + " | ".join(str(v) for v in r["builds_s"].values()) + " |")
    table += ["", f"Two workers: {one['wall_s'] / two['wall_s']:.2f}x faster on this 2-core machine "
              "(both workers share its two cores; on two machines each would have its own)."]
    record("buildbot_workers", {"runs": results}, table)


if __name__ == "__main__":
    main()
