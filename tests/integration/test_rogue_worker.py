"""A rogue worker (issue 25): a real buildbot-worker whose venvdeb is a script of the attacker's.

The worker connects as any other (over TLS, with its password), checks the packaging out with
git as any other, and answers every step with JSON of its choosing and a .deb of its own making.
Each attack below must fail its build, at the master's step that stops it, saying why; nothing is
published, and the master's repository keeps every byte it had:

- a .deb of another package's name (``libc6``), at the version reserved;
- the package asked for at another version than the one the master reserved (the rogue also
  says that version is the build's);
- an oversized file (the farm allows 1 MB here);
- a package cut short;
- the package asked for, whole, that lintian rejects, while the rogue says its build passed
  (the master's own lintian decides: no worker sends a lint result any more);
- a wheelhouse whose manifest and SHA256SUMS agree with its wheels, one of which is not the wheel
  the index publishes under that name.

And the attack no check of an upload can see: the package asked for, built by the real venvdeb
from the real inputs, with one file planted in its venv (its md5sums made to match), which lint
passes. It reaches staging; the master's own rebuild gives other bytes, so the build fails with
diffoscope's account of the difference, the release page shows it, and promotion is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from venvdeb.model.manifest import Manifest
from venvdeb.repository import Repository
from venvdeb.repository.signing import Key, fingerprints

from .conftest import _farm

pytestmark = [pytest.mark.integration, pytest.mark.network]

SUCCESS, FAILURE = 0, 2

ROGUE = r'''#!{python}
"""The rogue's venvdeb: plausible JSON, and packages of its own making."""
import json, os, pathlib, shutil, subprocess, sys

rogue = pathlib.Path(os.environ["ROGUE_DIR"])
mode = (rogue / "mode").read_text().strip()
args = sys.argv[1:]
while args and args[0] in ("--packaging", "--packaging-commit"):
    args = args[2:]


def planted(deb):
    """``deb`` with a .pth planted in its venv, its md5sums made to match."""
    import hashlib
    tree = pathlib.Path("planted-tree")
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-R", str(deb), str(tree)], check=True)
    site = next(tree.glob("usr/lib/venvs/*/lib/python3*/site-packages"))
    (site / "zz-planted.pth").write_text("import os\n")
    with open(tree / "DEBIAN" / "md5sums", "a") as md5sums:
        md5sums.write(hashlib.md5(b"import os\n").hexdigest() + "  " + str((site / "zz-planted.pth").relative_to(tree)) + "\n")
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zzstd", "-b", str(tree), str(deb)], check=True,
                   capture_output=True)
    return buildinfo(deb)


def deb(package, version, payload=b"rogue\n", copyright=True):
    tree = pathlib.Path("rogue-tree")
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {{package}}\nVersion: {{version}}\nArchitecture: all\nMaintainer: R <r@example.org>\n"
        f"Description: rogue\n rogue\n")
    (tree / "usr" / "share" / "doc" / package).mkdir(parents=True)
    (tree / "usr" / "share" / "doc" / package / "data").write_bytes(payload)
    if copyright:
        (tree / "usr" / "share" / "doc" / package / "copyright").write_text("Public domain.\n")
    out = pathlib.Path("out") / f"{{package}}_{{version}}_all.deb"
    out.parent.mkdir(exist_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(out)], check=True, capture_output=True)
    return buildinfo(out)


def buildinfo(deb):
    """A .buildinfo that names the .deb as it is: the rogue's, beside it."""
    import hashlib
    data = deb.read_bytes()
    deb.with_suffix(".buildinfo").write_text(
        f"Format: 1.0\nSource: rogue\nVersion: 1\nChecksums-Sha256:\n"
        f" {{hashlib.sha256(data).hexdigest()}} {{len(data)}} {{deb.name}}\n")
    return deb


def option(name, default=None):
    return args[args.index(name) + 1] if name in args else default


if mode in ("honest", "planted"):  # the real venvdeb does the work; the rogue touches its package
    real = subprocess.run([sys.executable, "-m", "venvdeb", *sys.argv[1:]], capture_output=True, text=True)
    sys.stderr.write(real.stderr)
    if mode == "planted" and real.returncode == 0 and args[:1] == ["build"] and "--plan" not in args:
        planted(pathlib.Path(json.loads(real.stdout)["deb"]))
    sys.stdout.write(real.stdout)
    sys.exit(real.returncode)
elif args[:2] == ["wheelhouse", "fetch"]:
    print(json.dumps({{"package": "test-wheelhouse-b1", "version": "1+deb12", "deb": "out/fetched.deb"}}))
elif args[:2] == ["wheelhouse", "build"]:
    out = pathlib.Path("out") / "test-wheelhouse-b1_1+deb12_amd64.deb"
    out.parent.mkdir(exist_ok=True)
    shutil.copyfile(rogue / "wheelhouse.deb", out)
    buildinfo(out)
    print(json.dumps({{"package": "test-wheelhouse-b1", "version": "1+deb12", "deb": str(out),
                      "deb_size": out.stat().st_size, "wheels": 3, "built": 0, "changed": True}}))
elif args[:1] == ["build"] and "--plan" in args:
    print(json.dumps({{"package": "venv-gitsvc", "upstream": "1.0.1~~dev2", "digest": "0" * 64}}))
elif args[:1] == ["build"]:
    asked = option("--version")
    version = "9.9-deb12u1" if mode == "other-version" else asked
    if mode == "other-package":
        made = deb("libc6", asked)
    elif mode == "oversized":
        made = deb("venv-gitsvc", asked, payload=os.urandom(2 << 20))
    elif mode == "truncated":
        made = deb("venv-gitsvc", asked)
        made.write_bytes(made.read_bytes()[:-300])
    elif mode == "lint-fails":
        made = deb("venv-gitsvc", asked, copyright=False)
    else:
        made = deb("venv-gitsvc", version)
    print(json.dumps({{"package": "venv-gitsvc", "version": version, "deb": str(made),
                      "deb_size": made.stat().st_size, "wheels": 1, "seconds": 0.1, "reason": "all good, trust me"}}))
else:
    print(json.dumps({{"error": "VenvdebError", "message": "rogue: " + " ".join(args)}}))
    sys.exit(3)
'''


def bad_wheelhouse(real: Path, dest: Path) -> str:
    """``real`` with its first downloaded wheel's bytes changed, and its manifest and SHA256SUMS
    rewritten to match: only the index can tell. The wheel's file name."""
    tree = dest.parent / "wheelhouse-tree"
    subprocess.run(["dpkg-deb", "-R", str(real), str(tree)], check=True)
    manifest_path = next(tree.rglob("manifest.json"))
    data = json.loads(manifest_path.read_text())
    wheel = next(w for w in data["wheels"] if w["origin"] == "downloaded")
    path = manifest_path.parent / wheel["file"]
    path.write_bytes(path.read_bytes() + b"\0")
    import hashlib

    wheel["sha256"], wheel["size"] = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size
    manifest_path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    Manifest.load(manifest_path)  # still a manifest venvdeb reads
    sums = manifest_path.parent / "SHA256SUMS"
    sums.write_text("".join(f"{w['sha256']}  {w['file']}\n" for w in sorted(data["wheels"], key=lambda w: w["file"])))
    subprocess.run(["sh", "-c", "cd \"$1\" && find . -type f ! -path './DEBIAN/*' -printf '%P\\0' | xargs -0 md5sum"
                    " > DEBIAN/md5sums", "md5", str(tree)], check=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(tree), str(dest)], check=True, capture_output=True)
    return wheel["file"]


@pytest.fixture
def rogue_farm(make_root, tmp_path, cache_dir, upstream):
    rogue_bin, rogue_dir = tmp_path / "rogue-bin", tmp_path / "rogue"
    rogue_bin.mkdir()
    rogue_dir.mkdir()
    script = rogue_bin / "venvdeb"
    script.write_text(ROGUE.format(python=sys.executable))
    script.chmod(0o755)
    path = f"{rogue_bin}:{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin"
    yield from _farm(make_root, tmp_path, cache_dir, upstream, smoke=False, workers=("rogue",),
                     settings="max_upload_mb = 1",
                     worker_env={"rogue": {"PATH": path, "ROGUE_DIR": str(rogue_dir)}})


def test_a_planted_file_that_passes_the_gates_is_caught_by_the_masters_rebuild(rogue_farm, tmp_path):
    farm, api, password = rogue_farm
    api.login("admin", password)
    rogue = tmp_path / "rogue"
    (rogue / "mode").write_text("honest")
    wheelhouse = api.wait_request(api.force("force_wheelhouse_b1_bookworm", "wheelhouse-b1-bookworm", reason="wh"))
    assert wheelhouse["results"] == SUCCESS, api.steps(wheelhouse)
    (rogue / "mode").write_text("planted")
    build = api.wait_request(api.force("force_b1_bookworm_venv_gitsvc", "b1-bookworm-venv-gitsvc", reason="planted"))
    assert build["results"] == FAILURE, api.steps(build)
    steps = {s["name"]: s for s in api.get(f"builds/{build['buildid']}/steps")["steps"]}
    assert steps["build"]["results"] == SUCCESS, api.log_text(build, "build")[-3000:]
    # Every check of the upload passed: it is the package and version asked for, whole, lint-clean.
    assert all(steps[name]["results"] == SUCCESS for name in ("accept-upload", "lintian", "publish", "record-build"))
    rebuild = steps["rebuild"]
    assert rebuild["results"] == FAILURE and "rebuild gave other bytes" in rebuild["state_string"]
    assert "zz-planted.pth" in api.log_text(build, "rebuild", "diffoscope")
    version = build["properties"]["version"][0]
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))
    assert repo.gates("venv-gitsvc", version)["rebuild"]["passed"] is False
    # The release page shows it, with diffoscope's account.
    with api.opener.open(f"{api.url}/plugins/wsgi_dashboards/releases/index.html", timeout=30) as r:
        page = r.read().decode()
    assert '<td class="rebuild FAILED">FAILED' in page and "zz-planted.pth" in page
    # Promotion is refused, and says why.
    refused = api.wait_request(api.force("force_promote_b1_bookworm", "promote-b1-bookworm", reason="ship it",
                                         package="venv-gitsvc", version=version), 120)
    assert refused["results"] == FAILURE
    assert "rebuild: failed" in api.get(f"builds/{refused['buildid']}/steps")["steps"][-1]["state_string"]
    assert repo.list("bookworm-b1") == []


def test_a_rogue_workers_uploads_are_refused_and_nothing_is_published(rogue_farm, tmp_path, cache_dir):
    farm, api, password = rogue_farm
    api.login("admin", password)
    rogue = tmp_path / "rogue"
    home = tmp_path / "gnupg"
    repo = Repository(tmp_path / "repo", Key(home, fingerprints(home)[0]))

    def repository() -> dict[str, bytes]:
        """Every byte the master publishes from: the suites, the pool, the snapshots."""
        return {str(p.relative_to(repo.base)): p.read_bytes() for p in sorted(repo.base.rglob("*"))
                if p.is_file() and p.relative_to(repo.base).parts[0] in ("dists", "pool")}

    before = repository()

    def attempt(mode: str, builder: str, scheduler: str) -> dict[str, str]:
        (rogue / "mode").write_text(mode)
        build = api.wait_request(api.force(scheduler, builder, reason=mode))
        assert build["results"] == FAILURE, (mode, api.steps(build))
        steps = api.get(f"builds/{build['buildid']}/steps")["steps"]
        failed = [s for s in steps if s["results"] == FAILURE]
        assert failed, (mode, api.steps(build))
        names = [s["name"] for s in steps]
        assert "publish" not in names or next(s for s in steps if s["name"] == "publish")["results"] != 0
        # What the worker uploaded is gone, refused.
        assert not (tmp_path / "uploads" / builder / str(build["number"])).exists()
        return {"step": failed[0]["name"], "said": failed[0]["state_string"]}

    service = ("b1-bookworm-venv-gitsvc", "force_b1_bookworm_venv_gitsvc")
    refused = {mode: attempt(mode, *service)
               for mode in ("other-package", "other-version", "oversized", "truncated", "lint-fails")}
    assert refused["other-package"]["step"] == "accept-upload"
    assert "Package is 'libc6', not 'venv-gitsvc'" in refused["other-package"]["said"]
    assert refused["other-version"]["step"] == "accept-upload"
    assert "Version is '9.9-deb12u1', not '1.0.1~~dev2-deb12u" in refused["other-version"]["said"]
    # Refused at the upload itself: the master stops writing at its own limit.
    assert refused["oversized"]["step"] in ("upload-deb", "accept-upload"), refused["oversized"]
    assert refused["truncated"]["step"] == "accept-upload"
    assert "not a whole Debian package" in refused["truncated"]["said"]
    assert refused["lint-fails"]["step"] == "lintian" and "lintian failed" in refused["lint-fails"]["said"]

    # A wheelhouse: its manifest matches its wheels, one of which is not what the index publishes.
    real = subprocess.run([sys.executable, "-m", "venvdeb", "--packaging", str(tmp_path / "packaging"), "wheelhouse",
                           "build", "b1", "--dist", "bookworm", "--out-dir", str(tmp_path / "real-out"),
                           "--state-dir", str(tmp_path / "real-state"), "--cache-dir", str(cache_dir), "--json"],
                          capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    changed = bad_wheelhouse(Path(json.loads(real.stdout)["deb"]), rogue / "wheelhouse.deb")
    wheelhouse = attempt("wheelhouse", "wheelhouse-b1-bookworm", "force_wheelhouse_b1_bookworm")
    assert wheelhouse["step"] == "verify"
    assert f"{changed}: the index publishes sha256 " in wheelhouse["said"]

    assert repo.list("bookworm-b1-staging") == []
    assert repository() == before
