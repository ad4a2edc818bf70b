"""Progress reporting: a redrawn status line on a terminal, plain lines elsewhere (CI logs)."""

from __future__ import annotations

import sys
import threading
import time


class Progress:
    def __init__(self, stream=None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self._lock = threading.Lock()
        self._last_plain: dict[str, float] = {}
        self._open_line = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.quiet:
            return
        with self._lock:
            if self.tty:
                self.stream.write(f"\r\x1b[K{phase}: {done} of {total} wheels")
                self._open_line = True
                if done >= total:
                    self.stream.write("\n")
                    self._open_line = False
            else:
                # Plain lines, but not one per wheel: every 2 s, and the last one.
                now = time.monotonic()
                if done >= total or now - self._last_plain.get(phase, 0) >= 2:
                    self._last_plain[phase] = now
                    self.stream.write(f"{phase}: {done} of {total} wheels\n")
            self.stream.flush()

    def log(self, message: str) -> None:
        if self.quiet:
            return
        with self._lock:
            if self._open_line:
                self.stream.write("\n")
                self._open_line = False
            self.stream.write(message + "\n")
            self.stream.flush()
