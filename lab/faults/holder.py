"""A detached process that holds PostgreSQL connections, the way leaked or stuck clients do.

    python -m lab.faults.holder --state FILE --dsn DSN --connections N
        [--session-state idle|idle_in_transaction] [--ramp-s S] [--lock TABLE]

It opens up to N connections (spread over --ramp-s seconds, retrying while the server is full,
so a leak grows as slots free up), optionally takes a lock in the first one, writes their
backend pids to the state file (`backends`), and holds them until SIGTERM. Once any of its
connections is cut from the outside (terminated, server restarted) it stops opening new ones
and exits when none is left: a responder who kills the leaked sessions really removes the cause.
"""

from __future__ import annotations

import select
import sys
import time

import psycopg2
import psycopg2.extensions

from lab.faults import helper

IDENTIFIERS = {"players", "scores", "best_scores", "matches", "purchases", "items", "games"}


def _open(dsn: str, state: str, lock: str | None) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dsn, connect_timeout=3)
    conn.autocommit = False
    with conn.cursor() as cur:
        if lock:
            cur.execute(f"LOCK TABLE {lock} IN ACCESS EXCLUSIVE MODE")
        elif state == "idle_in_transaction":
            cur.execute("SELECT 1")
    if state == "idle" and not lock:
        conn.commit()
    return conn


def main(argv: list[str] | None = None) -> int:
    parser = helper.parser(__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--session-state", choices=["idle", "idle_in_transaction"], default="idle_in_transaction")
    parser.add_argument("--ramp-s", type=float, default=0.0)
    parser.add_argument("--lock", choices=sorted(IDENTIFIERS))
    args = parser.parse_args(argv)

    stop, state = helper.begin(args, backends=[])
    conns: list[psycopg2.extensions.connection] = []
    lost_any = False

    def drop_lost(wait: float) -> None:
        """Forget the connections cut from the outside (waiting up to `wait` for news of one)."""
        nonlocal lost_any
        if not conns:
            time.sleep(wait)
            return
        readable, _, _ = select.select([c.fileno() for c in conns], [], [], wait)
        for fd in readable:
            conn = next(c for c in conns if c.fileno() == fd)
            try:
                conn.poll()
                continue
            except psycopg2.Error:
                pass
            conns.remove(conn)
            lost_any = True
            state.set(backends=_backends(conns))

    started = time.monotonic()
    interval = args.ramp_s / max(1, args.connections)
    while not stop.is_set():
        # Cut connections first: a responder who just ended the leaked sessions has freed their
        # slots, and a leak that took them again before noticing would outlive the remedy.
        drop_lost(0)
        if not lost_any and len(conns) < args.connections:
            due = int((time.monotonic() - started) / interval) + 1 if interval else args.connections
            while len(conns) < min(due, args.connections) and not stop.is_set():
                try:
                    conns.append(_open(args.dsn, args.session_state, args.lock if not conns else None))
                except psycopg2.OperationalError:
                    break  # full or down: try again on the next tick
                state.set(backends=_backends(conns))
                drop_lost(0)
                if lost_any:
                    break
        if lost_any and not conns:
            return 0
        # short of the target: try again soon, so the leak wins slots as they free up
        drop_lost(0.01 if not lost_any and len(conns) < args.connections else 0.1)
        if lost_any and not conns:
            return 0
    for conn in conns:
        conn.close()
    return 0


def _backends(conns: list[psycopg2.extensions.connection]) -> list[int]:
    return [c.get_backend_pid() for c in conns if not c.closed]


if __name__ == "__main__":
    sys.exit(main())
