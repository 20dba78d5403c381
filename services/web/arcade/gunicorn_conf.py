"""Gunicorn settings for Arcade: `gunicorn -c python:arcade.gunicorn_conf 'arcade:create_app()'`.

Bind address, workers, threads and timeout come from the command line. With
PROMETHEUS_MULTIPROC_DIR set, stale metric files are removed at start and a dead worker's
live gauges are dropped.
"""

from __future__ import annotations

import glob
import os
from typing import Any

worker_class = "gthread"
graceful_timeout = 5
accesslog = None  # pass --access-logfile - to see requests
errorlog = "-"
loglevel = "info"
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeat files off slow or overlay disks


def on_starting(server: Any) -> None:
    """Create the multiprocess metrics directory, or empty it of an earlier run's files."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)
        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the aggregated metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
