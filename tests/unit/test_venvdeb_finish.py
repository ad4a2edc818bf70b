"""debian/venvdeb-finish, the script every service build runs on its venv, on a venv made here."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
from importlib.machinery import SourceFileLoader

from tests.conftest import PROJECT


def finish():
    loader = SourceFileLoader("venvdeb_finish", str(PROJECT / "templates" / "debian" / "venvdeb-finish"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(module)
    return module


def test_a_module_naming_usr_locals_python_is_pointed_at_the_venv_and_its_record_follows(tmp_path):
    # legacy-cgi's cgi.py starts with "#! /usr/local/bin/python": lintian's interpreter-in-usr-local.
    site = tmp_path / "lib" / "python3.13" / "site-packages"
    (site / "legacy_cgi-2.6.4.dist-info").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    (site / "cgi.py").write_bytes(b"#! /usr/local/bin/python\n\nprint('cgi')\n")
    (site / "other.py").write_bytes(b"#!/usr/bin/env python3\nprint('other')\n")
    record = site / "legacy_cgi-2.6.4.dist-info" / "RECORD"
    record.write_text("cgi.py,sha256=stale,40\nother.py,sha256=kept,37\n")
    module = finish()
    module.refresh_records(tmp_path, module.upstream_shebangs(tmp_path, "/usr/lib/venvs/nova"))
    fixed = (site / "cgi.py").read_bytes()
    assert fixed == b"#!/usr/lib/venvs/nova/bin/python\n\nprint('cgi')\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(fixed).digest()).rstrip(b"=").decode()
    assert record.read_text().splitlines() == [f"cgi.py,sha256={digest},{len(fixed)}", "other.py,sha256=kept,37"]
    assert (site / "other.py").read_bytes().startswith(b"#!/usr/bin/env python3\n")  # not /usr/local's


def test_version_control_and_developer_files_inside_wheels_are_dropped_with_their_record_rows(tmp_path):
    # A Matrix homeserver's wheel carried .gitignore files: lintian's package-contains-vcs-control-file.
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "app-1.0.dist-info").mkdir(parents=True)
    (site / "app" / "res" / ".git").mkdir(parents=True)
    (site / "app" / "res" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (site / "app" / "res" / ".gitignore").write_text("*.pyc\n")
    (site / "app" / ".hgtags").write_text("")
    (site / "app" / "res" / ".eslintrc").write_text("{}\n")  # horizon's wheel has five
    (site / "app" / "gitignore.txt").write_text("a file about .gitignore, kept\n")
    (site / "app" / "__init__.py").write_text("")
    record = site / "app-1.0.dist-info" / "RECORD"
    record.write_text("app/__init__.py,sha256=x,0\napp/res/.gitignore,sha256=y,6\napp/res/.git/HEAD,sha256=z,21\n"
                      "app/.hgtags,sha256=w,0\napp/res/.eslintrc,sha256=u,3\napp/gitignore.txt,sha256=v,30\napp-1.0.dist-info/RECORD,,\n")
    module = finish()
    dropped = module.drop_misplaced_files(tmp_path)
    module.refresh_records(tmp_path, [], dropped)
    left = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert left == ["app-1.0.dist-info/RECORD", "app/__init__.py", "app/gitignore.txt"]
    assert not (site / "app" / "res" / ".git").exists()
    assert record.read_text().splitlines() == ["app/__init__.py,sha256=x,0", "app/gitignore.txt,sha256=v,30",
                                               "app-1.0.dist-info/RECORD,,"]


def test_trampolines_of_a_long_build_path_become_the_short_line_a_short_build_path_gets(tmp_path):
    """Where the build ran must not show in the package: a script installed from a deep build
    directory (uv's printf form, pip's plain one) ends as the one from a shallow directory."""
    module = finish()
    (tmp_path / "bin").mkdir()
    body = b"# -*- coding: utf-8 -*-\n\nimport jsonpatch\n"
    octal = " ".join("'\\'0%03o" % ord(c) for c in "/tmp/a/very/deep/build/dir/bin/python")
    forms = {
        "uv": b"#!/bin/sh\n# coding: utf-8\n'''exec' \"$(printf %b " + octal.encode() + b")\" \"$0\" \"$@\"\n' '''\n",
        "pip": b"#!/bin/sh\n'''exec' /tmp/a/very/deep/build/dir/bin/python \"$0\" \"$@\"\n' '''\n",
        "short": b"#!/usr/lib/venvs/horizon/bin/python3\n",
    }
    for name, head in forms.items():
        (tmp_path / "bin" / name).write_bytes(head + body)
    module.plain_shebangs(tmp_path, "/usr/lib/venvs/horizon")
    for name in forms:
        assert (tmp_path / "bin" / name).read_bytes() == b"#!/usr/lib/venvs/horizon/bin/python\n" + body, name


def test_upstream_test_suites_are_dropped_with_their_record_rows_and_runtime_test_apis_kept(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "app-1.0.dist-info").mkdir(parents=True)
    for path in ("app/__init__.py", "app/tests/__init__.py", "app/tests/unit/test_api.py", "app/tests/data/x.json",
                 "app/sub/tests/__init__.py", "app/testing/__init__.py", "app/test/utils.py", "app/tests.py",
                 "tests/__init__.py"):
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text("")
    record = site / "app-1.0.dist-info" / "RECORD"
    rows = ["app/__init__.py,sha256=a,0", "app/tests/__init__.py,sha256=b,0", "app/tests/unit/test_api.py,sha256=c,0",
            "app/tests/data/x.json,sha256=d,0", "app/sub/tests/__init__.py,sha256=e,0",
            "app/testing/__init__.py,sha256=f,0", "app/test/utils.py,sha256=g,0", "app/tests.py,sha256=h,0",
            "tests/__init__.py,sha256=i,0", "app-1.0.dist-info/RECORD,,"]
    record.write_text("".join(f"{row}\n" for row in rows))
    module = finish()
    module.refresh_records(tmp_path, [], module.drop_test_suites(tmp_path))
    left = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    # django.test and numpy.testing are APIs that running code imports; a module named tests.py is a module.
    assert left == ["app-1.0.dist-info/RECORD", "app/__init__.py", "app/test/utils.py", "app/testing/__init__.py",
                    "app/tests.py"]
    assert record.read_text().splitlines() == ["app/__init__.py,sha256=a,0", "app/testing/__init__.py,sha256=f,0",
                                               "app/test/utils.py,sha256=g,0", "app/tests.py,sha256=h,0",
                                               "app-1.0.dist-info/RECORD,,"]
