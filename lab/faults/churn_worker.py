"""A detached process that plays a load balancer's health checks and task replacement.

    python -m lab.faults.churn_worker --state FILE --url URL/readyz --master PID --dsn DSN
        [--every-ms 500] [--timeout-ms 1000] [--unhealthy-after 2] [--startup-queries 4]

Every --every-ms it asks --url (a check that needs the database) with a --timeout-ms deadline.
After --unhealthy-after failures in a row it replaces a task: one of Arcade's worker processes
(children of gunicorn's --master) is killed and gunicorn starts another, and the new task's
start-up work runs against the database (--startup-queries reads of the scores table, each on a
new connection). So the slower the database, the more tasks are replaced, and the more load the
replacements add. The state file counts checks, failures and replacements.
"""

from __future__ import annotations

import signal
import sys
import time
import urllib.error
import urllib.request

import psutil
import psycopg2

from lab.faults import helper

STARTUP_SQL = "SELECT game_id, count(*), avg(score) FROM scores GROUP BY game_id"


def healthy(url: str, timeout_s: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def replace_task(master: int) -> int | None:
    """Kill the oldest worker of gunicorn's master (a task the balancer took out); its pid or None."""
    try:
        workers = sorted(psutil.Process(master).children(), key=lambda p: p.create_time())
    except psutil.Error:
        return None
    for proc in workers:
        try:
            proc.send_signal(signal.SIGKILL)
            return proc.pid
        except psutil.Error:
            continue
    return None


def startup_work(dsn: str, queries: int, timeout_s: float) -> int:
    """What a new task does at start-up against the database; how many queries completed."""
    done = 0
    for _ in range(queries):
        try:
            conn = psycopg2.connect(dsn, connect_timeout=max(2, int(timeout_s)),
                                    options=f"-c statement_timeout={int(timeout_s * 1000)}")
            try:
                with conn.cursor() as cur:
                    cur.execute(STARTUP_SQL)
                    cur.fetchall()
                done += 1
            finally:
                conn.close()
        except psycopg2.Error:
            continue
    return done


def main(argv: list[str] | None = None) -> int:
    parser = helper.parser(__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--master", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--every-ms", type=int, default=500)
    parser.add_argument("--timeout-ms", type=int, default=1000)
    parser.add_argument("--unhealthy-after", type=int, default=2)
    parser.add_argument("--startup-queries", type=int, default=4)
    args = parser.parse_args(argv)

    stop, state = helper.begin(args, checks=0, failures=0, replaced=0, last_replaced=None)
    in_a_row = 0
    while not stop.is_set():
        started = time.monotonic()
        ok = healthy(args.url, args.timeout_ms / 1000)
        changes: dict[str, object] = {"checks": state.data["checks"] + 1}
        if ok:
            in_a_row = 0
        else:
            changes["failures"] = state.data["failures"] + 1
            in_a_row += 1
        if in_a_row >= args.unhealthy_after:
            in_a_row = 0
            if replace_task(args.master) is not None:
                changes.update(replaced=state.data["replaced"] + 1, last_replaced=time.time())
                startup_work(args.dsn, args.startup_queries, args.timeout_ms / 1000 * 5)
        state.set(**changes)
        stop.wait(max(0.0, args.every_ms / 1000 - (time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
