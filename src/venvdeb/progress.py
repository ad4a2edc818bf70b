"""Progress on long work, for a person waiting at a terminal and for a log read afterwards.

One reporter per process, set by ``configure`` (the command line's --quiet and --verbose): a long
step wraps itself in ``activity(label, log)``. On a terminal, rich draws every open activity with
a spinner and its elapsed time (builds, lintian and smoke run side by side in several threads);
elsewhere (Buildbot's logs, CI, pytest's capture) plain lines only, nothing redrawn. Either way an
activity leaves one line when it ends, and a failure the end of its log. ``Progress`` is the
wheelhouse's "N of M wheels" counter and its messages, through the same reporter.

Until ``configure`` is called (venvdeb used as a library, the tests), plain lines go to stderr:
a library caller that runs minutes still sees what is going on, and control codes never land in
a file.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import Progress as LiveDisplay, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

QUIET, NORMAL, VERBOSE = -1, 0, 1
TAIL_LINES = 25


def tail(log: Path, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` of a log file; empty when it cannot be read."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Reporter:
    """Where activities, counters and messages are shown: ``live`` (a terminal) through rich,
    else as plain lines. ``stream`` None: whatever sys.stderr is when a line is written (pytest
    replaces it for every test)."""

    def __init__(self, verbosity: int = NORMAL, stream=None, live: bool = False):
        self.verbosity = max(QUIET, min(VERBOSE, verbosity))
        self._stream = stream
        # Markup, highlighting and emoji off: labels and tool output are shown as they are.
        self.console = Console(file=stream, markup=False, highlight=False, emoji=False) \
            if live and self.verbosity > QUIET else None
        self._lock = threading.RLock()
        self._display: LiveDisplay | None = None  # drawn only while something is open
        self._counters: dict[str, TaskID] = {}
        self._last_plain: dict[str, float] = {}

    @property
    def stream(self):
        return self._stream or sys.stderr

    def say(self, text: str) -> None:
        """One line (or several), above the live display if one is drawn."""
        if self.console:
            self.console.print(text)
            return
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    @contextmanager
    def activity(self, label: str, log: Path | None = None) -> Iterator[None]:
        started = time.monotonic()
        task = self._open(label)
        try:
            yield
        except BaseException as exc:
            self._close(task, f"{label}: FAILED after {time.monotonic() - started:.1f} s", style="bold red")
            if isinstance(exc, Exception):  # not for Ctrl-C: every open activity would print its log
                self._show_tail(label, log, exc)
            raise
        where = f" (log: {log})" if log and self.verbosity >= VERBOSE else ""
        self._close(task, f"{label}: done in {time.monotonic() - started:.1f} s{where}")

    def count(self, phase: str, done: int, total: int) -> None:
        """"phase: N of M wheels": redrawn on a terminal; elsewhere every 2 s, and the last one."""
        if self.verbosity <= QUIET:
            return
        line = f"{phase}: {done} of {total} wheels"
        if self.console:
            with self._lock:
                if phase not in self._counters:
                    self._counters[phase] = self._add(line)
                self._display.update(self._counters[phase], description=line)
                if done >= total:
                    self._remove(self._counters.pop(phase), line)
            return
        with self._lock:
            now = time.monotonic()
            if done >= total or now - self._last_plain.get(phase, 0) >= 2:
                self._last_plain[phase] = now
                self.say(line)

    def message(self, text: str) -> None:
        if self.verbosity > QUIET:
            self.say(text)

    def close(self) -> None:
        """Stop the live display, if one is drawn: at exit, when a counter was left unfinished (a
        failed resolution), so that the terminal gets its cursor back."""
        with self._lock:
            if self._display is not None:
                self._display.stop()
                self._display = None
                self._counters.clear()

    def _open(self, label: str) -> TaskID | None:
        if self.verbosity <= QUIET:
            return None
        if not self.console:
            self.say(f"{label} ...")
            return None
        with self._lock:
            return self._add(label)

    def _close(self, task: TaskID | None, line: str, style: str | None = None) -> None:
        if self.verbosity <= QUIET:
            return
        if not self.console:
            self.say(line)
            return
        with self._lock:
            self._remove(task, line, style)

    def _add(self, description: str) -> TaskID:
        """A row of the live display, which starts with its first row (self._lock held)."""
        if self._display is None:
            # transient: the rows go when the display stops; the finished lines printed above stay.
            # Only a stream that is this terminal too is routed through the display: a stdout piped
            # to a file (--json) keeps its output.
            self._display = LiveDisplay(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                                        TimeElapsedColumn(), console=self.console, transient=True,
                                        redirect_stdout=sys.stdout.isatty(), redirect_stderr=sys.stderr.isatty())
            self._display.start()
        return self._display.add_task(description, total=None)

    def _remove(self, task: TaskID, line: str, style: str | None = None) -> None:
        """The finished line printed above the display, which stops with its last row (self._lock
        held): no redraw thread runs while nothing is open."""
        self._display.remove_task(task)
        self._display.refresh()  # else the line below is printed above the rows as they were
        # A Text, not print's style=, which would colour the live rows printed with it too.
        self.console.print(Text(line, style=style or ""))
        if not self._display.tasks:
            self._display.stop()
            self._display = None

    def _show_tail(self, label: str, log: Path | None, exc: Exception) -> None:
        """The end of the failed step's log, unless the error quotes it already (the raise sites
        of deb.buildpackage, images and sbuild do): it would be shown twice."""
        said = tail(log) if log else ""
        if not said.strip() or "\n".join(said.strip().splitlines()[-3:]) in str(exc):
            return
        self.say(f"--- {label}: the last {len(said.splitlines())} lines of {log} ---\n{said}")


_reporter = Reporter()
atexit.register(lambda: _reporter.close())


def configure(verbosity: int = NORMAL, stream=None) -> None:
    """The process's reporter: ``verbosity`` -1 quiet (only a failure's log), 0 normal, 1 verbose
    (where each log is, on success too); ``stream`` (default stderr) drawn live if it is a terminal."""
    global _reporter
    stream = stream or sys.stderr
    _reporter = Reporter(verbosity, stream, live=stream.isatty())


def say(message: str) -> None:
    """A stage's message for a person: to the process's reporter (stderr), never stdout, which
    is the JSON's. What every stage's ``log`` defaults to."""
    _reporter.message(message)


def activity(label: str, log: Path | None = None):
    """A context manager for a long step: shown while it runs, one line when it ends (``label:
    done in 12.3 s``, or ``FAILED after``); when the body raises, the tail of ``log`` (if given and
    readable) is shown and the exception propagates unchanged."""
    return _reporter.activity(label, log)


class Progress:
    """The wheelhouse's counters ("fetch: 40 of 212 wheels") and its messages, through the
    process's reporter (or one of its own on ``stream``). ``quiet``: nothing, as with
    configure(-1)."""

    def __init__(self, stream=None, quiet: bool = False):
        self.quiet = quiet
        self._own = Reporter(NORMAL, stream, live=stream.isatty()) if stream is not None else None

    @property
    def reporter(self) -> Reporter:
        return self._own or _reporter

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.quiet:
            self.reporter.count(phase, done, total)

    def log(self, message: str) -> None:
        if not self.quiet:
            self.reporter.message(message)
