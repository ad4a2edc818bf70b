"""The Buildbot steps, with Buildbot's TestBuildStepMixin: the argv each step runs, and what its
JSON becomes (properties, summary, outcome). No real worker or master process. Where a command's
JSON is more than a few keys (lint's), it is written by its result class, as the CLI writes it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest
from twisted.trial import unittest

from buildbot.plugins import util
from buildbot import config
from buildbot.process.properties import Property
from buildbot.process.results import EXCEPTION, FAILURE, SKIPPED, SUCCESS
from buildbot.test.reactor import TestReactorMixin
from buildbot.test.steps import ExpectMasterShell, ExpectShell, TestBuildStepMixin

from venvdeb.buildbot import steps
from venvdeb.model.results import (LintReport, LintResult, PlanResult, PromoteResult, RebuildResult, RefreshResult,
                                   RollbackResult, VersionResult, WheelhouseVerified)

V = ["/opt/v/bin/venvdeb", "--packaging", "/p"]


def Shell(**kwargs) -> ExpectShell:
    """A worker command as every venvdeb step runs it: its environment kept out of the log."""
    return ExpectShell(log_environ=False, **kwargs)


def out(data) -> str:
    return json.dumps(data)


def lint_out(*severities: str, fail_on=("error", "warning")) -> str:
    """``venvdeb lint --json`` of one package with a tag of each severity given."""
    tags = [{"severity": s, "tag": f"some-{s}-tag", "package": "x", "context": ""} for s in severities]
    return out(LintReport([LintResult("x.deb", tags=tags, fail_on=list(fail_on))]).as_dict())


class StepTest(TestBuildStepMixin, TestReactorMixin, unittest.TestCase):
    def setUp(self):
        self.setup_test_reactor()
        return self.setup_test_build_step()

    def test_wheelhouse_build_sets_properties_and_summary(self):
        self.setup_step(steps.WheelhouseBuild(release="2025.2", venvdeb=["/opt/v/bin/venvdeb"], packaging="/p",
                                              extra_args=["--out-dir", "out"]))
        self.expect_commands(
            Shell(workdir="wkdir", command=V + ["wheelhouse", "build", "2025.2", "--out-dir", "out", "--json"])
            .stdout(out({"package": "openstack-wheelhouse-2025.2", "version": "7", "deb": "out/2025.2/w_7_all.deb",
                         "deb_size": 123_400_000, "wheels": 212, "built": 3, "changed": True}))
            .stderr("resolving...\n")
            .exit(0))
        self.expect_outcome(result=SUCCESS,
                            state_string="openstack-wheelhouse-2025.2 7 (new): 212 wheels, 3 from sdists, 123.4 MB")
        self.expect_property("wheelhouse_version", "7")
        self.expect_property("wheelhouse_deb_size", 123_400_000)
        self.expect_property("deb", "out/2025.2/w_7_all.deb")
        self.expect_property("deb_file", "w_7_all.deb")
        return self.run_step()

    def test_service_build_passes_the_reason_and_the_fetched_wheelhouse(self):
        self.setup_step(steps.ServiceBuild(release="2025.2", service="nova", reason=Property("reason"),
                                           wheelhouse_deb=Property("wheelhouse_deb"), venvdeb=["venvdeb"]))
        self.build.setProperty("reason", "CVE-2026-1234", "Force Build Form")
        self.build.setProperty("wheelhouse_deb", "out/2025.2/w_7_all.deb", "fetch")
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "build", "2025.2", "nova", "--reason", "CVE-2026-1234",
                                                  "--wheelhouse-deb", "out/2025.2/w_7_all.deb", "--json"])
            .stdout(out({"package": "venv-nova", "version": "32.2.1-3", "deb": "/b/out/2025.2/venv-nova_32.2.1-3_amd64.deb",
                         "deb_size": 25_000_000, "installed_size_kib": 190_000, "seconds": 14.0,
                         "wheels": 2, "reason": "CVE-2026-1234"}))
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="venv-nova 32.2.1-3: 25.0 MB, 2 wheels, 14.0 s")
        self.expect_property("wheels", 2)
        self.expect_property("version", "32.2.1-3")
        self.expect_property("installed_size_kib", 190_000)
        self.expect_property("deb_file", "venv-nova_32.2.1-3_amd64.deb")
        return self.run_step()

    def test_failed_build_says_why(self):
        self.setup_step(steps.ServiceBuild(release="2025.2", service="nova", reason="r"))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "build", "2025.2", "nova", "--reason", "r", "--json"])
            .stdout(out({"error": "VenvdebError", "message": "no wheelhouse package for release 2025.2 in out\nmore",
                         "hint": "build it"}))
            .exit(1))
        self.expect_outcome(result=FAILURE, state_string="build: no wheelhouse package for release 2025.2 in out")
        self.expect_no_property("version")
        return self.run_step()

    def test_a_tool_that_failed_is_an_exception_not_the_packages_failure(self):
        # venvdeb's exit status 3 (errors.py): the machine, not the package; Buildbot's EXCEPTION.
        self.setup_step(steps.WheelhouseBuild(release="2025.2"))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "wheelhouse", "build", "2025.2", "--json"])
            .stdout(out({"error": "NetworkError", "message": "GET https://pypi.org/simple/nova/: failed after 4 "
                         "attempts", "hint": "check the network"}))
            .exit(3))
        self.expect_outcome(result=EXCEPTION, state_string="wheelhouse: GET https://pypi.org/simple/nova/: failed "
                            "after 4 attempts")
        return self.run_step()

    def test_output_that_is_not_json_fails_the_step(self):
        self.setup_step(steps.WheelhouseBuild(release="2025.2"))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "wheelhouse", "build", "2025.2", "--json"])
            .stdout("Traceback (most recent call last):\n").exit(0))
        self.expect_outcome(result=FAILURE, state_string="wheelhouse failed")
        return self.run_step()

    def test_lint_runs_on_the_master_and_its_counts_become_properties(self):
        self.setup_step(steps.Lint(deb="/m/up/x.deb", extra_args=["--repo-dir", "/m/repo"]))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "lint", "/m/up/x.deb", "--fail-on", "error,warning", "--record",
                               "--repo-dir", "/m/repo", "--json"])
            .stdout(lint_out(*["info"] * 4).encode())
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="lintian passed: 0 error, 0 warning, 4 info")
        self.expect_property("lintian_info", 4)
        self.expect_property("lintian_counts", {"error": 0, "warning": 0, "info": 4})
        return self.run_step()

    def test_lint_failure_keeps_the_counts(self):
        self.setup_step(steps.Lint(deb="x.deb", fail_on=["error"]))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "lint", "x.deb", "--fail-on", "error", "--record", "--json"])
            .stdout(lint_out("error", "error", "warning", fail_on=["error"]).encode())
            .exit(1))
        self.expect_outcome(result=FAILURE, state_string="lintian failed: 2 error, 1 warning, 0 info")
        self.expect_property("lintian_error", 2)
        return self.run_step()

    def test_lint_that_could_not_run_says_why_not_zero_tags(self):
        self.setup_step(steps.Lint(deb="x.deb"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "lint", "x.deb", "--fail-on", "error,warning", "--record", "--json"])
            .stdout(out({"error": "VenvdebError", "message": "x.deb: no such file", "hint": None}).encode())
            .exit(2))
        self.expect_outcome(result=FAILURE, state_string="lintian: x.deb: no such file")
        self.expect_no_property("lintian_error")
        return self.run_step()

    def test_verify_runs_on_the_master_and_names_the_first_wheel_not_as_published(self):
        self.setup_step(steps.Verify(release="r1", deb="/m/up/x.deb"))
        bad = WheelhouseVerified("w", "3", wheels=2, downloaded=2, built=0, index="https://pypi.org/simple",
                                 failures=["six-1.16.0-py2.py3-none-any.whl: the index publishes sha256 ab, "
                                           "the wheelhouse has cd"])
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "wheelhouse", "verify", "r1", "/m/up/x.deb", "--record", "--json"])
            .stdout(out(bad.as_dict()).encode()).exit(1))
        self.expect_outcome(result=FAILURE, state_string="1 wheel(s) not as published: six-1.16.0-py2.py3-none-any"
                            ".whl: the index publishes sha256 ab, the wheelhouse has cd")
        return self.run_step()

    def test_rebuild_runs_on_the_master_and_says_the_bytes_matched(self):
        self.setup_step(steps.Rebuild(release="r1", service="svc", deb="/m/up/x.deb", out_dir="/m/up/rebuild"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "rebuild", "r1", "svc", "/m/up/x.deb", "--record", "--out-dir",
                               "/m/up/rebuild", "--json"])
            .stdout(out(RebuildResult("venv-svc", "1.0-deb12u1", "/m/up/x.deb", "ab" * 32, "ab" * 32, True,
                                      seconds=7.4).as_dict()).encode())
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="rebuilt in 7 s: the same bytes")
        return self.run_step()

    def test_a_rebuild_that_differs_fails_and_its_log_is_diffoscopes_report(self):
        where = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, where)
        report = os.path.join(where, "x.diffoscope.txt")
        with open(report, "w") as f:
            f.write("--- x.deb\n+++ rebuild/x.deb\n+zz-planted.pth\n")
        self.setup_step(steps.Rebuild(release="r1", service="svc", deb="/m/up/x.deb", out_dir="/m/up/rebuild"))
        differs = RebuildResult("venv-svc", "1.0-deb12u1", "/m/up/x.deb", "ab" * 32, "cd" * 32, False,
                                rebuilt="/m/up/rebuild/x.deb", report=report, differences="--- x.deb")
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "rebuild", "r1", "svc", "/m/up/x.deb", "--record", "--out-dir",
                               "/m/up/rebuild", "--json"])
            .stdout(out(differs.as_dict()).encode()).exit(1))
        self.expect_outcome(result=FAILURE, state_string="rebuild gave other bytes (sha256 cdcdcdcdcdcd..., not "
                                                         "abababababab...): see the log diffoscope")
        self.expect_log_file("diffoscope", "--- x.deb\n+++ rebuild/x.deb\n+zz-planted.pth\n")
        return self.run_step()

    def test_a_wheelhouse_rebuild_runs_on_the_master_too(self):
        self.setup_step(steps.WheelhouseRebuild(release="r1", deb="/m/up/w.deb", out_dir="/m/up/rebuild"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "wheelhouse", "rebuild", "r1", "/m/up/w.deb", "--record", "--out-dir",
                               "/m/up/rebuild", "--json"])
            .stdout(out(RebuildResult("w", "3+deb12", "/m/up/w.deb", "ab" * 32, "ab" * 32, True,
                                      seconds=31.0).as_dict()).encode())
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="rebuilt in 31 s: the same bytes")
        return self.run_step()

    def test_plan_gives_the_upstream_version(self):
        self.setup_step(steps.Plan(release="2025.2", service="nova", reason="r"))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "build", "2025.2", "nova", "--reason", "r", "--plan", "--json"])
            .stdout(out(PlanResult("venv-nova", "32.2.1", "d1g35t", last="32.2.0-1").as_dict()))
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="venv-nova: upstream 32.2.1")
        self.expect_property("upstream", "32.2.1")
        return self.run_step()

    def test_a_plan_with_nothing_changed_skips_the_build(self):
        self.setup_step(steps.Plan(release="2025.2", service="nova", reason="r", only_if_changed=True))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "build", "2025.2", "nova", "--reason", "r", "--only-if-changed",
                                            "--plan", "--json"])
            .stdout(out(PlanResult("venv-nova", "32.2.1", "d1g35t", last="32.2.1-1",
                                   skipped="closure and packaging unchanged since 32.2.1-1").as_dict()))
            .exit(0))
        self.expect_outcome(result=SKIPPED,
                            state_string="skipped: venv-nova closure and packaging unchanged since 32.2.1-1")
        self.expect_property("skipped", "closure and packaging unchanged since 32.2.1-1")
        self.expect_no_property("upstream")
        return self.run_step()

    def test_fetch(self):
        self.setup_step(steps.WheelhouseFetch(release="r1", repo_url="http://127.0.0.1:8080", keyring="k.gpg"))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "wheelhouse", "fetch", "r1", "--repo-url",
                                                  "http://127.0.0.1:8080", "--keyring", "k.gpg", "--json"])
            .stdout(out({"package": "w", "version": "3", "deb": "out/r1/w_3_all.deb"})).exit(0))
        self.expect_outcome(result=SUCCESS, state_string="w 3, sha256 verified")
        self.expect_property("wheelhouse_deb", "out/r1/w_3_all.deb")
        return self.run_step()

    def test_publish_runs_on_the_master(self):
        self.setup_step(steps.Publish(suite="bookworm-r1-staging", deb="/m/up/x.deb", package="venv-svc",
                                      version=util.Property("reserved_version"), max_size="1024", venvdeb=["venvdeb"],
                                      extra_args=["--repo-dir", "/m/repo"]))
        # The version the master reserved, whatever a worker's step set "version" to since.
        self.build.setProperty("reserved_version", "1.0-1", "version")
        self.build.setProperty("version", "9.9-1", "build")
        # The package and version the master asked for: publish refuses anything else.
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "repo", "publish", "bookworm-r1-staging", "/m/up/x.deb", "--package",
                               "venv-svc", "--max-size", "1024", "--version", "1.0-1", "--repo-dir", "/m/repo",
                               "--json"])
            .stdout(out({"published": [{"suite": "bookworm-r1-staging", "package": "venv-svc",
                                        "version": "1.0-1", "published": True}]}).encode())
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="bookworm-r1-staging: venv-svc 1.0-1")
        self.expect_property("published", ["venv-svc 1.0-1"])
        return self.run_step()

    def test_an_upload_is_accepted_on_the_master_before_any_gate(self):
        self.setup_step(steps.AcceptUpload(deb="/m/up/x.deb", package="venv-svc", max_size="9",
                                           version=util.Property("reserved_version")))
        self.build.setProperty("reserved_version", "1.0-1", "version")
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "repo", "check-upload", "/m/up/x.deb", "--package", "venv-svc",
                               "--max-size", "9", "--version", "1.0-1", "--json"])
            .stdout(out({"error": "Rejected", "message": "/m/up/x.deb: not the package that was asked for: Package "
                         "is 'libc6', not 'venv-svc'; nothing was published"}).encode())
            .exit(1))
        self.expect_outcome(result=FAILURE, state_string="accept-upload: /m/up/x.deb: not the package that was asked "
                            "for: Package is 'libc6', not 'venv-svc'; nothing was published")
        return self.run_step()

    def test_publish_names_the_gates_a_farm_without_smoke_requires(self):
        self.setup_step(steps.Publish(suite="s", deb="/m/up/x.deb", package="venv-svc", max_size="9", gates=["lint"]))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "repo", "publish", "s", "/m/up/x.deb", "--package", "venv-svc",
                               "--max-size", "9", "--gates", "lint", "--json"])
            .stdout(out({"published": [{"suite": "s", "package": "venv-svc", "version": "1.0-1",
                                        "published": True}]}).encode())
            .exit(0))
        self.expect_outcome(result=SUCCESS, state_string="s: venv-svc 1.0-1")
        return self.run_step()

    def master_succeeds(self, step, argv: list, result, summary: str, **properties):
        """``step`` runs ``venvdeb <argv> --json`` on the master, which prints ``result`` (a result
        class, as the CLI writes it): the step's summary, and the properties it sets."""
        self.setup_step(step)
        self.expect_commands(ExpectMasterShell(["venvdeb", *argv, "--json"]).stdout(out(result.as_dict()).encode())
                             .exit(0))
        self.expect_outcome(result=SUCCESS, state_string=summary)
        for name, value in properties.items():
            self.expect_property(name, value)
        return self.run_step()

    def test_reserve_version_sets_the_version(self):
        return self.master_succeeds(
            steps.ReserveVersion(release="r1", package="venv-svc", upstream="1.0"),
            ["repo", "reserve-version", "r1", "venv-svc", "--upstream", "1.0"], VersionResult("venv-svc", "1.0-3"),
            "venv-svc 1.0-3: taken", version="1.0-3")

    def test_a_master_steps_arguments_are_rendered(self):
        self.setup_step(steps.ReserveVersion(release="r1", package="venv-svc", upstream=Property("upstream"),
                                             packaging=Property("master_packaging")))
        self.build.setProperty("upstream", "1.1", "plan")
        self.build.setProperty("master_packaging", "/m/packaging/7", "packaging-to-master")
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "--packaging", "/m/packaging/7", "repo", "reserve-version", "r1", "venv-svc",
                               "--upstream", "1.1", "--json"])
            .stdout(out(VersionResult("venv-svc", "1.1-1").as_dict()).encode()).exit(0))
        self.expect_outcome(result=SUCCESS, state_string="venv-svc 1.1-1: taken")
        return self.run_step()

    def test_record_build(self):
        return self.master_succeeds(
            steps.RecordBuild(release="r1", package="venv-svc", version="1.0-3", ledger="/m/l.json"),
            ["repo", "record-build", "r1", "venv-svc", "1.0-3", "--ledger", "/m/l.json"],
            VersionResult("venv-svc", "1.0-3"), "venv-svc 1.0-3: in the master's ledger")

    def test_promote_says_why_it_did_not(self):
        return self.master_succeeds(
            steps.Promote(release="r1", package="venv-svc", version="1.0-3"),
            ["repo", "promote", "r1", "venv-svc", "1.0-3"],
            PromoteResult("bookworm-r1", "venv-svc", "1.0-3", promoted=False, reason="already in bookworm-r1"),
            "bookworm-r1: venv-svc 1.0-3 already in bookworm-r1")

    def test_rollback_names_what_it_replaced(self):
        return self.master_succeeds(
            steps.Rollback(suite="bookworm-r1", package="venv-svc", version="1.0-2"),
            ["repo", "rollback", "bookworm-r1", "venv-svc", "1.0-2", "--restore"],
            RollbackResult("bookworm-r1", "venv-svc", "1.0-2", restored=True, replaced=["1.0-3"]),
            "bookworm-r1: venv-svc back to 1.0-2 (was 1.0-3)")

    def test_refresh_gives_the_earliest_valid_until(self):
        valid_until = {"bookworm-r1": "Thu, 09 Jul 2026 04:00:00 UTC",
                       "bookworm-r1-staging": "Wed, 08 Jul 2026 04:00:00 UTC"}
        return self.master_succeeds(steps.RepoRefresh(), ["repo", "refresh"], RefreshResult("/m/repo", valid_until),
                                    "2 suites valid until Wed, 08 Jul 2026 04:00:00 UTC")

    def test_publish_refused(self):
        self.setup_step(steps.Publish(suite="s", deb="x.deb", package="venv-svc", max_size="9"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "repo", "publish", "s", "x.deb", "--package", "venv-svc", "--max-size", "9", "--json"])
            .stdout(out({"error": "VenvdebError", "message": "s already has venv-svc 1.0-1 with different bytes",
                         "hint": None}).encode())
            .exit(1))
        self.expect_outcome(result=FAILURE, state_string="publish: s already has venv-svc 1.0-1 with different bytes")
        return self.run_step()

    def test_a_repository_tool_that_failed_on_the_master_is_an_exception(self):
        self.setup_step(steps.Publish(suite="s", deb="x.deb", package="venv-svc", max_size="9"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "repo", "publish", "s", "x.deb", "--package", "venv-svc", "--max-size", "9", "--json"])
            .stdout(out({"error": "ToolError", "message": "reprepro includedeb failed in /m/repo", "hint": None}).encode())
            .exit(3))
        self.expect_outcome(result=EXCEPTION, state_string="publish: reprepro includedeb failed in /m/repo")
        return self.run_step()

    def test_a_triggered_build_with_nothing_changed_is_skipped_with_the_reason(self):
        self.setup_step(steps.ServiceBuild(release="2025.2", service="nova", reason="r", only_if_changed=True))
        self.expect_commands(
            Shell(workdir="wkdir", command=["venvdeb", "build", "2025.2", "nova", "--reason", "r",
                                                  "--only-if-changed", "--json"])
            .stdout(out({"package": "venv-nova", "version": "32.2.1-deb12u3", "deb": "out/venv-nova.deb",
                         "skipped": "closure and packaging unchanged since 32.2.1-deb12u3"}))
            .exit(0))
        self.expect_outcome(result=SKIPPED, state_string=(
            "skipped: venv-nova closure and packaging unchanged since 32.2.1-deb12u3"))
        self.expect_property("skipped", "closure and packaging unchanged since 32.2.1-deb12u3")
        done = self.run_step()
        # The build is skipped too, not a success with a skipped step.
        done.addCallback(lambda _: self.assertEqual(self.build.results, SKIPPED))
        return done

    def test_a_model_error_names_the_file_and_its_first_problem(self):
        self.setup_step(steps.Publish(suite="s", deb="x.deb", package="venv-svc", max_size="9"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "repo", "publish", "s", "x.deb", "--package", "venv-svc", "--max-size", "9", "--json"])
            .stdout(out({"error": "ModelError", "file": "/p/services/svc.toml",
                         "problems": ["key 'wsgi[0].port': 70000 is not a TCP port (1-65535)"]}).encode())
            .exit(1))
        self.expect_outcome(result=FAILURE, state_string=(
            "publish: /p/services/svc.toml: key 'wsgi[0].port': 70000 is not a TCP port (1-65535)"))
        return self.run_step()

    def test_gates_run_lint_and_smoke_on_the_master_side_by_side_each_recorded(self):
        self.setup_step(steps.Gates(release="r1", service="svc", deb="/m/up/x.deb", lint_args=["--repo-dir", "/m/r"],
                                    smoke_args=["--repo-dir", "/m/r"]))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "lint", "/m/up/x.deb", "--fail-on", "error,warning", "--record",
                               "--repo-dir", "/m/r", "--json"])
            .stdout(lint_out("info", "info").encode())
            .exit(0),
            ExpectMasterShell(["venvdeb", "smoke", "r1", "svc", "/m/up/x.deb", "--record", "--repo-dir", "/m/r",
                               "--json"])
            .stdout(out({"passed": True, "checks": [{"name": "pip check", "passed": True}] * 3}).encode())
            .exit(0))
        self.expect_outcome(result=SUCCESS,
                            state_string="lintian passed: 0 error, 0 warning, 2 info; smoke passed: 3 checks")
        self.expect_property("lintian_info", 2)
        self.expect_property("smoke_checks", 3)
        return self.run_step()

    def test_gates_fail_when_smoke_does_and_say_which_check(self):
        self.setup_step(steps.Gates(release="r1", service="svc", deb="/m/up/x.deb"))
        self.expect_commands(
            ExpectMasterShell(["venvdeb", "lint", "/m/up/x.deb", "--fail-on", "error,warning", "--record", "--json"])
            .stdout(lint_out().encode())
            .exit(0),
            ExpectMasterShell(["venvdeb", "smoke", "r1", "svc", "/m/up/x.deb", "--record", "--json"])
            .stdout(out({"passed": False, "checks": [{"name": "keystone-api: GET /v3 gives 200", "passed": False}]})
                    .encode())
            .exit(1))
        self.expect_outcome(result=FAILURE, state_string=(
            "lintian passed: 0 error, 0 warning, 0 info; smoke failed: keystone-api: GET /v3 gives 200"))
        return self.run_step()


@pytest.mark.parametrize("make", [
    lambda: steps.ServiceBuild(release="r", service="s"),            # no reason
    lambda: steps.ServiceBuild(release="r", reason="x"),             # no service
    lambda: steps.WheelhouseBuild(),
    lambda: steps.WheelhouseFetch(release="r", repo_url="file:///srv/repo"),
    lambda: steps.Lint(deb="x.deb", fail_on="error"),
    lambda: steps.Lint(deb="x.deb", fail_on=["fatal"]),
    lambda: steps.Publish(suite="s"),
    lambda: steps.WheelhouseBuild(release="r", venvdeb="venvdeb --verbose"),
    lambda: steps.WheelhouseBuild(release="r", command=["sh", "-c", "true"]),
    lambda: steps.WheelhouseBuild(release="r", logEnviron=True),
    lambda: steps.Gates(release="r", service="s", deb="d", fail_on=["fatal"]),
    lambda: steps.Verify(release="r"),
])
def test_bad_arguments_fail_at_checkconfig(make):
    # Outside a config load, config.error raises at once: what checkconfig reports.
    with pytest.raises(config.ConfigErrors):
        make()
