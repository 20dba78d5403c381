"""Relocated clusters (run dirs the PostgreSQL account cannot reach) are found, linked and collected."""

from __future__ import annotations

import os
import time

from lab.stack import postgres


def test_orphaned_relocated_clusters_are_collected(tmp_path):
    clusters = tmp_path / "clusters"
    kept, orphan, young = (clusters / name for name in ("kept", "orphan", "young"))
    for home in (kept, orphan, young):
        (home / "data").mkdir(parents=True)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "pg").symlink_to(kept)
    (kept / postgres.OWNER_FILE).write_text(str(run_dir / "pg"))
    (orphan / postgres.OWNER_FILE).write_text(str(tmp_path / "gone" / "pg"))
    (young / postgres.OWNER_FILE).write_text(str(tmp_path / "gone-too" / "pg"))
    old = time.time() - 7200
    for home in (kept, orphan):
        os.utime(home, (old, old))
    postgres._collect_orphans(clusters)
    assert kept.exists() and young.exists() and not orphan.exists()
