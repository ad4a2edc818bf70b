import json

import pytest

from venvdeb.cli import main, parser
from venvdeb.errors import ModelError, Rejected, ToolError
from venvdeb.model.results import Check, SmokeResult, ValidateResult
from tests.conftest import PROJECT


@pytest.mark.parametrize("argv", [
    [], ["wheelhouse"], ["wheelhouse", "build"], ["validate"], ["lock"], ["render"], ["build"], ["lint"],
    ["repo"], ["repo", "init"], ["repo", "publish"], ["repo", "promote"], ["repo", "list"], ["repo", "serve"],
    ["repo", "rollback"], ["repo", "sources"], ["smoke"], ["pipeline"],
])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        parser().parse_args([*argv, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "usage: venvdeb" in out and len(out.splitlines()) > 3


def test_validate_the_embedded_default(capsys):
    assert main(["--packaging", str(PROJECT / "packaging"), "validate", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    fleet = ["nova", "glance", "keystone", "placement", "neutron", "cinder", "horizon", "openstackclient"]
    assert result["releases"]["2025.2"]["services"] == result["releases"]["2026.2"]["services"] == fleet


def test_model_errors_exit_non_zero_with_json(make_root, capsys):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, release_extra="bogus = true\n")
    assert main(["--packaging", str(root), "validate", "t1", "--json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)
    assert error["error"] == "ModelError" and error["file"].endswith("releases/t1.toml")
    assert "key 'bogus': unknown key" in captured.err


@pytest.mark.parametrize("raised, status, said", [
    (None, 0, ""),
    (Rejected("smoke failed: venv-svc 1.0-deb12u1", SmokeResult("venv-svc", "1.0-deb12u1", [Check("pip check", False)])),
     1, "venvdeb: rejected: smoke failed"),
    (ModelError("releases/t1.toml", ["key 'x': unknown key"]), 2, "venvdeb: error: releases/t1.toml: invalid"),
    (ToolError("gpg --sign failed: no secret key"), 3, "venvdeb: tool failed: gpg --sign failed"),
])
def test_the_exit_status_says_whether_the_package_the_input_or_the_tool_failed(monkeypatch, capsys, raised, status,
                                                                               said):
    from venvdeb.cli import releases

    def validate(args):
        if raised:
            raise raised
        return ValidateResult({})

    monkeypatch.setattr(releases, "validate", validate)
    assert main(["validate", "--json"]) == status
    captured = capsys.readouterr()
    assert said in captured.err
    if isinstance(raised, Rejected):  # --json gives the check's result, as on success
        assert SmokeResult.from_dict(json.loads(captured.out)) == raised.result and '"passed": false' in captured.out


def test_a_repository_that_does_not_answer_is_a_tool_failure(tmp_path, capsys):
    from venvdeb.http import free_port

    code = main(["--packaging", str(PROJECT / "packaging"), "wheelhouse", "fetch", "2026.2", "--dist", "bookworm",
                 "--repo-url", f"http://127.0.0.1:{free_port()}", "--out-dir", str(tmp_path / "out"),
                 "--state-dir", str(tmp_path / "state")])
    assert code == 3
    assert "venvdeb: tool failed: GET http://127.0.0.1:" in capsys.readouterr().err
