"""piuparts' command and what of its log a check keeps."""

from __future__ import annotations

import subprocess

from venvdeb.gates import piuparts

LOG = """0m1.0s INFO: PASS: Installation and purging test.
0m9.0s INFO: PASS: All tests.
"""


def test_the_upgrade_test_alone_when_the_suite_has_an_earlier_version():
    first = piuparts.piuparts_argv("/tmp/c/x.deb", "trixie")
    later = piuparts.piuparts_argv("/tmp/c/x.deb", "trixie", upgrade_only=True)
    assert first[0] == "piuparts" and first[-1] == "/tmp/c/x.deb" and "--distribution=trixie" in first
    assert "--keep-sources-list" in first  # the base's security and updates suites stay
    assert "--existing-chroot=/srv/piuparts-base" in first and "--hard-link" in first  # no second copy of the base
    assert "--no-install-purge-test" not in first and later == [*first[:-1], "--no-install-purge-test", first[-1]]


def test_a_run_that_tested_nothing_fails():
    ran = piuparts.ran_a_test(subprocess.CompletedProcess([], 0, LOG, ""))
    assert ran.returncode == 0
    idle = piuparts.ran_a_test(subprocess.CompletedProcess([], 0, "0m9.0s INFO: PASS: All tests.\n", ""))
    assert idle.returncode == 1 and "ran no installation test" in idle.stdout


def test_a_passed_check_keeps_what_passed_and_a_failed_one_its_errors_and_tail():
    assert piuparts.findings(LOG, True) == "PASS: Installation and purging test.\nPASS: All tests."
    failed = "0m1.0s ERROR: FAIL: Package purging left files on system:\n  /var/lib/litter/behind\n" + "x" * 2000
    kept = piuparts.findings(failed, False)
    assert kept.startswith("0m1.0s ERROR: FAIL: Package purging left files on system:")
    assert kept.endswith("x" * 100) and len(kept) < 1700
