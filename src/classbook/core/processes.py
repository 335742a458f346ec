"""Starting and stopping the servers a command runs beside itself (demo, benchmarks).

Each process gets its own session (process group), so stopping it stops its children
too (gunicorn's workers); its output goes to a log file of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


def spawn(name: str, argv: list[str], env: dict, log_dir: Path) -> subprocess.Popen:
    with (log_dir / f"{name}.log").open("ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_http(url: str, timeout: float, accept_statuses=(200,)) -> bool:
    """True once ``url`` answers with one of ``accept_statuses`` (polling until timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status in accept_statuses:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code in accept_statuses:
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def stop(processes: dict[str, subprocess.Popen], grace: float = 15) -> None:
    """SIGTERM every process group, then SIGKILL what is still there after ``grace``."""
    for proc in processes.values():
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
