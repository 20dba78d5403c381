"""A detached process that puts a DDL statement in a table's lock queue behind a long lock holder.

    python -m lab.faults.ddl_worker --state FILE --dsn DSN --table T --ddl SQL
        [--blocker long_transaction|maintenance] [--blocker-dsn DSN] [--delay-s S]

    blocker  ── holds a lock the DDL conflicts with (ACCESS SHARE of an open report transaction,
                or SHARE UPDATE EXCLUSIVE of a long maintenance run, as a vacuum takes)
    ddl      ── waits for ACCESS EXCLUSIVE; every later reader and writer of the table queues
                behind it, although the holder alone would not have blocked them

The DDL runs once. When it fails (cancelled, terminated, the server restarted) the worker does
not retry; when the holder goes away it completes, in milliseconds. A `maintenance` holder comes
back when it is cut off, as an anti-wraparound autovacuum does. The state file (JSON) says what
the two sessions are: backend pids and the DDL's outcome (waiting, done, failed).
"""

from __future__ import annotations

import sys
import threading
import time

import psycopg2
import psycopg2.extensions

from lab.faults import helper

MAINTENANCE_SQL = "/* autovacuum: VACUUM public.{table} (to prevent wraparound) */ SELECT pg_sleep(86400)"


def _connect(dsn: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dsn, connect_timeout=3)
    conn.autocommit = False
    return conn


def hold(dsn: str, table: str, kind: str, state: helper.StateFile, stop: helper.StopFlag,
         ready: threading.Event) -> None:
    """Hold the blocking lock; a maintenance holder comes back after it is cut off."""
    while not stop.is_set():
        try:
            conn = _connect(dsn)
        except psycopg2.OperationalError:
            time.sleep(0.5)
            continue
        try:
            state.set(blocker_pid=conn.get_backend_pid())
            with conn.cursor() as cur:
                if kind == "maintenance":
                    cur.execute(f"LOCK TABLE {table} IN SHARE UPDATE EXCLUSIVE MODE")
                    ready.set()
                    cur.execute(MAINTENANCE_SQL.format(table=table))  # runs until cancelled or cut off
                else:
                    cur.execute(f"SELECT count(*) FROM {table}")  # ACCESS SHARE until the transaction ends
                    ready.set()
                    while not stop.wait(0.2):
                        conn.poll()  # raises once the server cuts the session off
        except psycopg2.Error:
            pass
        finally:
            state.set(blocker_pid=None)
            try:
                conn.close()
            except psycopg2.Error:
                pass
        if kind != "maintenance":
            return
        stop.wait(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = helper.parser(__doc__)
    parser.add_argument("--dsn", required=True, help="the migration's connection")
    parser.add_argument("--blocker-dsn", help="the holder's connection (default: --dsn)")
    parser.add_argument("--table", required=True)
    parser.add_argument("--ddl", required=True)
    parser.add_argument("--blocker", choices=["long_transaction", "maintenance"], default="long_transaction")
    parser.add_argument("--delay-s", type=float, default=0.5)
    args = parser.parse_args(argv)

    stop, state = helper.begin(args, ddl="starting", ddl_pid=None, blocker_pid=None)
    ready = threading.Event()
    holder = threading.Thread(target=hold, args=(args.blocker_dsn or args.dsn, args.table, args.blocker, state, stop, ready),
                              daemon=True)
    holder.start()
    ready.wait(10)
    if stop.wait(args.delay_s):
        return 0
    try:
        conn = _connect(args.dsn)
        state.set(ddl="waiting", ddl_pid=conn.get_backend_pid())
        with conn.cursor() as cur:
            cur.execute("SET lock_timeout = 0")
            cur.execute(args.ddl)
        conn.commit()
        state.set(ddl="done")
    except psycopg2.Error as exc:
        state.set(ddl="failed", error=str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    finally:
        state.set(ddl_pid=None)
    while not stop.wait(0.2):  # the holder keeps its lock until the fault is reverted
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
