"""The reporter of long steps: plain lines for logs, rich's live display on a terminal, a failed
step's log tail, and the verbosity the command line sets."""

from __future__ import annotations

import io
import re
import threading

import pytest

from venvdeb import progress
from venvdeb.progress import Progress, activity, configure


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr at a person's shell does."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_reporter(monkeypatch):
    # Every test configures the process's reporter: the next one starts from the default again.
    monkeypatch.setattr(progress, "_reporter", progress._reporter)


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "build.log"
    path.write_text("".join(f"line {i}\n" for i in range(40)))
    return path


def test_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    configure(0, stream)
    with activity("lintian venv-nova_34.0.0-deb12u1_all.deb"):
        pass
    lines = stream.getvalue().splitlines()
    assert lines[0] == "lintian venv-nova_34.0.0-deb12u1_all.deb ..."
    assert re.fullmatch(r"lintian venv-nova_34\.0\.0-deb12u1_all\.deb: done in \d+\.\d s", lines[1])
    assert len(lines) == 2
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_a_failure_shows_the_logs_tail_and_raises_the_same_exception(log_file):
    stream = io.StringIO()
    configure(0, stream)
    error = RuntimeError("dpkg-buildpackage exited with 2")
    with pytest.raises(RuntimeError) as raised:
        with activity("venv-nova 34.0.0-deb12u1: dpkg-buildpackage", log_file):
            raise error
    assert raised.value is error
    out = stream.getvalue()
    assert re.search(r"^venv-nova 34\.0\.0-deb12u1: dpkg-buildpackage: FAILED after \d+\.\d s$", out, re.M)
    assert f"the last 25 lines of {log_file}" in out
    tail = out.split(f"{log_file} ---\n", 1)[1].splitlines()
    assert tail == [f"line {i}" for i in range(15, 40)]


def test_a_tail_the_error_quotes_already_is_not_shown_twice(log_file):
    stream = io.StringIO()
    configure(0, stream)
    quoted = "\n".join(f"line {i}" for i in range(15, 40))
    with pytest.raises(RuntimeError):
        with activity("mmdebstrap trixie image", log_file):
            raise RuntimeError(f"mmdebstrap failed (log: {log_file}):\n{quoted}")
    assert "line 39" not in stream.getvalue()
    assert "mmdebstrap trixie image: FAILED after" in stream.getvalue()


def test_an_unreadable_log_is_no_second_failure(tmp_path):
    stream = io.StringIO()
    configure(0, stream)
    with pytest.raises(KeyError):
        with activity("sbuild", tmp_path / "never-written.log"):
            raise KeyError("x")
    assert "last" not in stream.getvalue()


def test_quiet_says_nothing_but_a_failures_tail(log_file):
    stream = io.StringIO()
    configure(-1, stream)
    with activity("lintian a.deb", log_file):
        pass
    counter = Progress()
    counter.log("packaging venvdeb-2026.2-wheelhouse")
    counter("fetch", 3, 3)
    assert stream.getvalue() == ""
    with pytest.raises(ValueError):
        with activity("piuparts a.deb", log_file):
            raise ValueError("failed")
    assert stream.getvalue().splitlines() == [f"--- piuparts a.deb: the last 25 lines of {log_file} ---",
                                              *(f"line {i}" for i in range(15, 40))]


def test_verbose_says_where_the_log_is(log_file):
    stream = io.StringIO()
    configure(1, stream)
    with activity("venv-nova 34.0.0-deb12u1: sbuild", log_file):
        pass
    assert stream.getvalue().splitlines()[-1].endswith(f" s (log: {log_file})")
    configure(0, stream)
    with activity("again", log_file):
        pass
    assert "log:" not in stream.getvalue().splitlines()[-1]


def test_activities_of_two_threads_both_report():
    stream = io.StringIO()
    configure(0, stream)
    both_open = threading.Barrier(2, timeout=30)  # each waits inside its activity for the other

    def step(label):
        with activity(label):
            both_open.wait()

    threads = [threading.Thread(target=step, args=(label,)) for label in ("build b", "lintian a.deb")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = stream.getvalue().splitlines()
    for label in ("build b", "lintian a.deb"):
        assert f"{label} ..." in lines
        assert any(line.startswith(f"{label}: done in ") for line in lines)
    # Both had started before either ended.
    assert {lines[0], lines[1]} == {"build b ...", "lintian a.deb ..."}


def test_a_terminal_gets_richs_live_display(log_file):
    terminal = Terminal()
    configure(0, terminal)
    with activity("smoke venv-nova_34.0.0-deb12u1_all.deb: apt install and checks"):
        with activity("mmdebstrap trixie image trixie.tar"):
            Progress()("fetch", 1, 2)
            Progress().log("a message above the display")
            Progress()("fetch", 2, 2)
    with pytest.raises(OSError):
        with activity("piuparts a.deb", log_file):
            raise OSError("no")
    out = terminal.getvalue()
    assert "mmdebstrap trixie image trixie.tar: done in" in out
    assert "smoke venv-nova_34.0.0-deb12u1_all.deb: apt install and checks: done in" in out
    assert "a message above the display" in out and "fetch: 2 of 2 wheels" in out
    assert "piuparts a.deb: FAILED after" in out and "line 39" in out
    assert "mmdebstrap trixie image trixie.tar ..." not in out  # no plain start line: a spinner instead
    assert progress._reporter._display is None  # nothing open: no live display, no redraw thread


def test_until_configured_plain_lines_go_to_stderr(capsys, monkeypatch):
    monkeypatch.setattr(progress, "_reporter", progress.Reporter())
    with activity("lintian a.deb"):
        pass
    Progress().log("a message")
    err = capsys.readouterr().err
    assert err.startswith("lintian a.deb ...\nlintian a.deb: done in ")
    assert err.endswith("a message\n")


def test_the_wheel_counter_in_plain_lines():
    stream = io.StringIO()
    configure(0, stream)
    Progress()("fetch", 5, 5)
    Progress(quiet=True)("fetch", 5, 5)
    assert stream.getvalue() == "fetch: 5 of 5 wheels\n"
    own = io.StringIO()
    Progress(stream=own).log("its own stream")
    assert own.getvalue() == "its own stream\n"


def test_closing_stops_a_display_left_open():
    # A counter left unfinished (a resolution that failed half-way) keeps its row until the end.
    configure(0, Terminal())
    Progress()("resolve", 3, 10)
    assert progress._reporter._display is not None
    progress._reporter.close()
    assert progress._reporter._display is None
