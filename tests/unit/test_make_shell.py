"""A service's build command goes through make and then sh: quoted for both, it reaches the shell
as the service file wrote it."""

from __future__ import annotations

import subprocess

import pytest

from venvdeb.service.render import make_shell


@pytest.mark.parametrize("command", [
    'echo "$SITE" \'single\' back\\slash \\$literal `echo tick` "a  b"',
    "printf '%s\\n' \"it's\" $((1 + 2))",
    'test -n "$VENV" && echo "${VENV}/bin"',
])
def test_a_build_command_reaches_the_shell_as_written(command, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SITE": "/s", "VENV": "/v"}
    (tmp_path / "Makefile").write_text(f"all:\n\t@sh -ec {make_shell(command)}\n")
    through_make = subprocess.run(["make", "-s", "-C", str(tmp_path)], capture_output=True, text=True, env=env)
    direct = subprocess.run(["sh", "-ec", command], capture_output=True, text=True, env=env)
    assert through_make.returncode == direct.returncode == 0, through_make.stderr
    assert through_make.stdout == direct.stdout
