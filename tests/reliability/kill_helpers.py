"""What every kill test does to its subprocess: let it run for a while, then ``kill -9``."""

from __future__ import annotations

import signal
import subprocess
import time


def kill_after(process: subprocess.Popen[bytes], seconds: float) -> None:
    """Send SIGKILL to ``process`` after ``seconds`` unless it already ended; reap it."""
    time.sleep(seconds)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
