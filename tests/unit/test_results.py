"""The results every command prints with --json: what is written reads back the same."""

from dataclasses import is_dataclass

from venvdeb.model.results import (COMMANDS, ByDistribution, Check, ErrorResult, LintReport, LintResult,
                                   PipelineResult, Published, Result, SmokeResult, Stage, per_distribution)


def test_nested_results_read_back_as_dataclasses():
    tag = {"severity": "warning", "tag": "t", "package": "p", "context": ""}
    report = LintReport([LintResult("a.deb", [tag], ["error", "warning"], 2), LintResult("b.deb")])
    again = LintReport.from_dict(report.as_dict())
    assert again == report and isinstance(again.packages[0], LintResult)
    assert again.counts() == {"error": 0, "warning": 1, "info": 0} and not again.passed
    pipeline = PipelineResult("r1", "bookworm", [Stage("venv-a", "build", True, 1.5)],
                              [Published("s", "venv-a", "1-deb12u1", True, snapshot="x")])
    assert PipelineResult.from_dict(pipeline.as_dict()) == pipeline
    smoke = SmokeResult("venv-a", "1", [Check("pip check", True, "", 0.2), Check("run", False, "boom")])
    read = SmokeResult.from_dict(smoke.as_dict())
    assert read == smoke and read.failed() == ["run"] and smoke.as_dict()["passed"] is False


def test_a_key_not_sent_keeps_its_default_and_an_unknown_key_is_ignored():
    # Another venvdeb on a worker: what it leaves out reads as a default, what it adds is dropped.
    report = LintReport.from_dict({"packages": [{"deb": "a.deb", "summary": "ignored", "new_key": 1}]})
    assert report.packages[0].tags == [] and report.passed
    assert SmokeResult.from_dict({"package": "p"}).version is None
    assert ErrorResult.from_dict({"error": "ModelError", "file": "r.toml", "problems": ["key 'x': bad"]}).text() == \
        "r.toml: key 'x': bad"


def test_one_distribution_is_its_result_and_several_are_by_distribution():
    one = SmokeResult("p", "1")
    assert per_distribution({"bookworm": one}) is one
    both = per_distribution({"bookworm": one, "trixie": SmokeResult("p", "2")}, passed=False)
    assert isinstance(both, ByDistribution) and both.passed is False
    assert ByDistribution.from_dict(both.as_dict()).each(SmokeResult)["trixie"].version == "2"


def test_every_command_has_a_result_dataclass():
    assert COMMANDS and all(is_dataclass(c) and issubclass(c, Result) for c in COMMANDS.values())
