"""The services of a release, at one distribution, through Buildbot: one worker against two.

A real master, N local workers and the repository server on 127.0.0.1 (as `make master` starts
them). The wheelhouse build is forced as admin; when it is published it triggers every service
builder of the release. The wall time runs from the force to the last service build's end.
Smoke tests are off here (they run on the master, one at a time, whatever the workers): what is
measured is what more workers change, build and lint on the workers.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROJECT, record  # noqa: E402
from venvdeb.http import free_port  # noqa: E402

RELEASE, DIST = "2025.2", "bookworm"
POINT = f"{RELEASE}-{DIST}"  # as builder names spell a release at a distribution


def run_farm(workers: tuple[str, ...], work: Path, cache_dir: Path) -> dict:
    from venvdeb.buildbot.local import Farm
    from venvdeb.buildbot.schedulers import identifier
    from venvdeb.model import load_release
    from venvdeb.repository.signing import stop_agent

    release = load_release(PROJECT / "packaging", RELEASE)
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
        api.wait(lambda: sum(bool(w["connected_to"]) for w in api.get("workers")["workers"]) == len(workers),
                 120, "the workers")
        api.login("admin", password)
        services = [f"{POINT}-venv-{s.name}" for s in release.services]
        start = time.monotonic()
        wheelhouse = api.wait_request(api.force(identifier(f"force-wheelhouse-{POINT}"), f"wheelhouse-{POINT}",
                                                reason="bench", trigger_services=True))
        if wheelhouse["results"] != 0:
            raise SystemExit(f"the wheelhouse build failed: {api.steps(wheelhouse)}")
        def finished():
            last = [(api.builds(b) or [None])[-1] for b in services]
            return last if all(b and b["complete"] for b in last) else None

        done = api.wait(finished, 1800, "the triggered service builds")
        wall = time.monotonic() - start
        failed = [b["builderid"] for b in done if b["results"] != 0]
        if failed:
            raise SystemExit(f"service builds failed: {failed}")
        per_build = {b: round(api.builds(b)[-1]["complete_at"] - api.builds(b)[-1]["started_at"], 1) for b in services}
        return {"workers": len(workers), "wall_s": round(wall, 1),
                "wheelhouse_s": round(wheelhouse["complete_at"] - wheelhouse["started_at"], 1), "builds_s": per_build}
    finally:
        farm.stop()
        stop_agent(work / "gnupg")


def main() -> None:
    cache_dir = Path.home() / ".cache" / "venvdeb"
    results = []
    for workers in (("w1",), ("w1", "w2")):
        work = Path(tempfile.mkdtemp(prefix="venvdeb-bench-bb-"))
        try:
            results.append(run_farm(workers, work, cache_dir))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    one, two = results
    table = [
        f"# Buildbot: the {len(one['builds_s'])} services of {RELEASE} on {DIST}, one worker against two",
        "",
        "Reproduce: `make bench-buildbot`. From the forced wheelhouse build to the last service build's end;",
        "each service build: fetch the wheelhouse over HTTP, build, lintian, upload, publish on the master.",
        "",
        "| workers | wall (s) | wheelhouse (s) | " + " | ".join(one["builds_s"]) + " |",
        "|---:|---:|---:|" + "---:|" * len(one["builds_s"]),
    ]
    for r in results:
        table.append(f"| {r['workers']} | {r['wall_s']} | {r['wheelhouse_s']} | "
                     + " | ".join(str(v) for v in r["builds_s"].values()) + " |")
    table += ["", f"Two workers: {one['wall_s'] / two['wall_s']:.2f}x faster on this 2-core machine "
              "(both workers share its two cores; on two machines each would have its own)."]
    record("buildbot_workers", {"runs": results}, table)


if __name__ == "__main__":
    main()
