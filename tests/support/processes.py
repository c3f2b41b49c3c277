"""Start dealbridge processes the way a user would, and read their first stdout line."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

START_TIMEOUT_SECONDS = 60.0
_KEPT_OUTPUT_LINES = 2000


class StartedProcess:
    """A child process and the JSON object it printed first.

    After the first line, background threads keep reading the child's stdout and stderr (a full
    pipe would block the child mid-test) and keep the last lines in :attr:`output`.
    """

    def __init__(self, process: subprocess.Popen[str], info: dict[str, Any]) -> None:
        self.process = process
        self.info = info
        self.output: deque[str] = deque(maxlen=_KEPT_OUTPUT_LINES)
        self._drains = [
            threading.Thread(target=self._drain, args=(stream,), daemon=True)
            for stream in (process.stdout, process.stderr)
            if stream is not None
        ]
        for thread in self._drains:
            thread.start()

    def _drain(self, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            self.output.append(line)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit; then close its pipes."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for thread in self._drains:
            thread.join(timeout=10)
        _close_pipes(self.process)


def _close_pipes(process: subprocess.Popen[str]) -> None:
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _read_first_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.2):
            line = process.stdout.readline()
            if line:
                return line
        if process.poll() is not None:
            break
    stderr = process.stderr.read() if process.stderr and process.poll() is not None else ""
    raise RuntimeError(f"process printed no first line (exit={process.poll()}): {stderr[-4000:]}")


@contextmanager
def dealbridge_process(
    args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[StartedProcess]:
    """Run ``python -m dealbridge ARGS`` and yield it once its first stdout line is JSON."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "dealbridge", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=full_env,
    )
    started = None
    try:
        line = _read_first_line(process, START_TIMEOUT_SECONDS)
        started = StartedProcess(process, json.loads(line))
        yield started
    finally:
        if started is not None:
            started.stop()
        else:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            _close_pipes(process)
