import json

import pytest

from venvdeb.cli import main, parser
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
    assert result["2025.2"]["services"] == result["2026.2"]["services"] == fleet


def test_model_errors_exit_non_zero_with_json(make_root, capsys):
    root = make_root("six===1.17.0\n", {"svc": ("six", "1.17.0")}, release_extra="bogus = true\n")
    assert main(["--packaging", str(root), "validate", "t1", "--json"]) == 1
    captured = capsys.readouterr()
    error = json.loads(captured.out)
    assert error["error"] == "ModelError" and error["file"].endswith("releases/t1.toml")
    assert "key 'bogus': unknown key" in captured.err
