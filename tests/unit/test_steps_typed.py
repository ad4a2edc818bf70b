"""Buildbot's steps read only typed results (model/results.py), never the JSON: what a command
prints is parsed once, in common.py, into the class its step names, and that class is the one
``results.COMMANDS`` says the command prints."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from venvdeb.buildbot import steps
from venvdeb.buildbot.steps import common, gates
from venvdeb.model import results

STEPS = Path(steps.__file__).parent
MODULES = sorted(STEPS.glob("*.py"))
# The two kinds (each concrete step is one of them), and what two concrete steps share.
ABSTRACT = {steps.VenvdebStep, steps.VenvdebMasterStep, gates._Rebuilds}


def raw_reads(source: str) -> list[str]:
    """Where ``source`` reads a key of a mapping by name: ``x["key"]`` or ``x.get("key")``. In the
    steps only JSON would be read so: a result's fields are attributes."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript):
            key = node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            key = node.args[0] if node.args else None
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found


def json_readers(source: str) -> set[str]:
    """Where ``source`` imports or uses the json module: the functions, ``<module>`` for its top."""
    found = set()

    def visit(node, where):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else where
            if (isinstance(child, ast.Name) and child.id == "json"
                    or isinstance(child, ast.Import) and any(a.name == "json" for a in child.names)
                    or isinstance(child, ast.ImportFrom) and child.module == "json"):
                found.add(where)
            visit(child, inner)

    visit(ast.parse(source), "<module>")
    return found


def test_the_scan_covers_every_module_of_the_steps():
    assert {p.name for p in MODULES} == {"__init__.py", "common.py", "worker.py", "master.py", "gates.py"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_step_reads_a_key_of_the_json(path):
    assert raw_reads(path.read_text()) == []


def test_the_scan_finds_a_raw_read():
    # The check above can fail: each spelling of a key read is found, and a field of a result is not.
    source = "def record(self, data):\n    a = data['version']\n    b = data.get('package', '')\n"
    assert raw_reads(source) == ["line 2: data['version']", "line 3: data.get('package', '')"]
    assert raw_reads("def record(self, result):\n    return result.version, counts[s], pair[0]\n") == []


def test_only_common_parses_json_in_one_function():
    readers = {path.name: json_readers(path.read_text()) for path in MODULES}
    # `import json` at the top, then json.loads in parse(): nowhere else.
    assert readers == {"__init__.py": set(), "common.py": {"<module>", "parse"}, "worker.py": set(),
                       "master.py": set(), "gates.py": set()}
    tree = ast.parse((STEPS / "common.py").read_text())
    assert len([n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "loads"]) == 1
    # The reader sees the json module in another function, however it is imported.
    assert json_readers("import json\ndef record(self, s):\n    return json.loads(s)\n") == {"<module>", "record"}
    assert json_readers("def record(self, s):\n    from json import loads\n    return loads(s)\n") == {"record"}
    assert json_readers("import json as j\n") == {"<module>"}


def concrete_steps() -> list[type]:
    found, todo = [], [common._JsonResult]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls is not common._JsonResult and cls not in ABSTRACT and cls.__module__.startswith(steps.__name__):
            found.append(cls)
    return sorted(set(found), key=lambda c: c.__name__)


def commands_read(cls) -> dict[tuple[str, ...], object]:
    """What each command a step runs prints, as the step expects it: the command's words -> class.
    Gates runs two: lint and smoke."""
    read = {cls.subcommand + cls.variant: cls.result_class}
    if hasattr(cls, "smoke_result_class"):
        read[cls.smoke_subcommand] = cls.smoke_result_class
    return read


def test_the_walk_finds_every_step():
    assert {c.__name__ for c in concrete_steps()} == {
        "WheelhouseBuild", "WheelhouseFetch", "ServiceBuild", "Plan", "Lint", "Publish", "ReserveVersion",
        "RecordBuild", "Verify", "AcceptUpload", "Promote", "Rollback", "RepoRefresh", "Gates", "Rebuild", "WheelhouseRebuild", "Cloud"}


@pytest.mark.parametrize("cls", concrete_steps(), ids=lambda c: c.__name__)
def test_each_step_reads_what_its_command_prints(cls):
    for words, result_class in commands_read(cls).items():
        assert isinstance(result_class, type) and issubclass(result_class, results.Result), (words, result_class)
        assert results.COMMANDS.get(words) is result_class, words


def test_plan_is_read_as_a_plan_and_gates_as_lint_and_smoke():
    assert commands_read(steps.Plan) == {("build", "--plan"): results.PlanResult}
    assert commands_read(steps.ServiceBuild) == {("build",): results.BuildResult}
    assert commands_read(steps.Gates) == {("lint",): results.LintReport, ("smoke",): results.SmokeResult}


def test_parse_gives_the_steps_class_the_error_or_nothing():
    assert common.parse('{"package": "p", "version": "1"}', results.VersionResult) == results.VersionResult("p", "1")
    error = common.parse('{"error": "ModelError", "file": "f.toml", "problems": ["bad"]}', results.VersionResult)
    assert isinstance(error, results.ErrorResult) and error.text() == "f.toml: bad"
    # A rejected package's own result has no "error": it is read as the step's class.
    report = common.parse('{"passed": false, "packages": [{"deb": "x.deb", "tags": []}]}', results.LintReport)
    assert isinstance(report, results.LintReport) and report.packages[0].deb == "x.deb"
    assert common.parse("Traceback (most recent call last):", results.VersionResult) is None
    assert common.parse("[]", results.VersionResult) is None
    assert common.parse("", results.VersionResult) is None
