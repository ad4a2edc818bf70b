from venvdeb.gates.lint import LintResult, argv, parse
from venvdeb.deb import sources_entry
from venvdeb.repository.reprepro import Suite, distributions_conf, snapshot_name

OUTPUT = """\
E: venv-nova: malformed-deb-archive third (official) member data.tar.zst not data.tar.(gz|xz|bz2|lzma)
W: venv-nova: no-manual-page [usr/bin/nova-manage]
I: venv-nova: extra-license-file [usr/lib/venvs/nova/lib/python3.11/site-packages/x.dist-info/LICENSE]
O: venv-nova: unusual-interpreter python [usr/lib/venvs/nova/bin/x]
N: a note line lintian prints around overrides
"""


def test_lintian_output_is_parsed():
    tags = parse(OUTPUT)
    assert [(t["severity"], t["tag"]) for t in tags] == [
        ("error", "malformed-deb-archive"), ("warning", "no-manual-page"), ("info", "extra-license-file"),
        ("overridden", "unusual-interpreter")]
    assert tags[1]["context"] == "[usr/bin/nova-manage]" and tags[1]["package"] == "venv-nova"


def test_gate_fails_on_the_configured_severities():
    result = LintResult("x.deb", parse(OUTPUT), ("error", "warning"), exit_code=2)
    assert not result.passed and result.counts == {"error": 1, "warning": 1, "info": 1, "overridden": 1}
    assert "FAILED (1 errors, 1 warnings, 1 infos" in result.summary()
    info_only = LintResult("x.deb", parse(OUTPUT)[2:], ("error", "warning"), exit_code=0)
    assert info_only.passed
    assert not LintResult("x.deb", parse(OUTPUT)[2:], ("error", "warning", "info"), exit_code=2).passed


def test_lintian_argv_has_no_suppressions():
    cmd = argv("x.deb", ("error",))
    assert cmd[:4] == ["lintian", "--no-cfg", "--fail-on", "error"] and cmd[-1] == "x.deb"
    assert "--pedantic" not in cmd and "--pedantic" in argv("x.deb", ("error", "pedantic"))
    assert not any(a.startswith(("--suppress", "--profile", "--no-override", "-X")) for a in cmd)


def test_distributions_are_signed_per_suite():
    conf = distributions_conf([Suite("bookworm-2025.2-staging", "s"), Suite("bookworm-2025.2", "p")], ["ABCD"], "amd64")
    stanzas = conf.strip().split("\n\n")
    assert len(stanzas) == 2
    assert all("SignWith: ABCD" in s and "Components: main" in s for s in stanzas)
    # While a key is rotated, every suite is signed by both.
    rotating = distributions_conf([Suite("bookworm-2025.2", "p")], ["ABCD", "EF01"], "amd64")
    assert "SignWith: ABCD EF01\n" in rotating
    assert "Codename: bookworm-2025.2-staging" in stanzas[0]


def test_sources_entry_is_deb822_with_signed_by():
    from debian.deb822 import Deb822

    entry = Deb822(sources_entry("http://127.0.0.1:8080", "bookworm-2025.2", "/etc/apt/keyrings/v.gpg"))
    assert entry["Types"] == "deb" and entry["Suites"] == "bookworm-2025.2"
    assert entry["Signed-By"] == "/etc/apt/keyrings/v.gpg"


def test_snapshot_names_escape_epochs():
    assert snapshot_name("venv-nova", "1:32.2.1-3") == "venv-nova_1%3a32.2.1-3"


def test_gate_results_recorded_at_once_are_all_kept(tmp_path):
    """lint from a worker and smoke on the master end together: each record keeps both."""
    import threading

    from venvdeb.repository.reprepro import Repository

    def record(gate: str, n: int) -> None:
        Repository(tmp_path).record_gate("venv-x", f"1.0-deb12u{n}", gate, {"passed": True}, "ab" * 32)

    threads = [threading.Thread(target=record, args=(gate, n)) for n in range(20) for gate in ("lint", "smoke")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    repo = Repository(tmp_path)
    assert all(set(repo.gates("venv-x", f"1.0-deb12u{n}")) == {"sha256", "lint", "smoke"} for n in range(20))
