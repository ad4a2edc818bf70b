"""The sudoers file of a service with privileged helpers: what visudo, the check debian/rules runs
before the file is packaged, says of it and of a line that would not parse."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from venvdeb.service.render import TEMPLATES

from .test_golden import render_case

pytestmark = pytest.mark.skipif(not shutil.which("visudo"), reason="sudo's visudo is set up by make setup")


def test_the_rendered_file_parses_and_a_broken_line_is_named_with_its_file(tmp_path):
    tree = render_case("nova", tmp_path / "good")
    sudoers = tree / "sudoers.d" / "nova"
    checked = subprocess.run(["visudo", "-cf", str(sudoers)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "debian/venv-nova/etc/sudoers.d/nova" in (tree / "debian" / "rules").read_text()

    # A template edit that leaves an unparsable rule (a tag without its colon):
    # the build stops at visudo, which names the file and the line.
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    sudoers_j2 = templates / "debian" / "sudoers.j2"
    sudoers_j2.write_text(sudoers_j2.read_text().replace("(root) NOPASSWD: {{ venv_dir }}/bin/{{ service.helpers.rootwrap }} ^",
                                                         "(root) NOPASSWD {{ venv_dir }}/bin/{{ service.helpers.rootwrap }} ^"))
    broken = render_case("nova", tmp_path / "broken", templates=templates) / "sudoers.d" / "nova"
    checked = subprocess.run(["visudo", "-cf", str(broken)], capture_output=True, text=True)
    said = checked.stdout + checked.stderr
    assert checked.returncode != 0
    assert f"{broken}:" in said and "syntax error" in said
