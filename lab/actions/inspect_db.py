"""inspect-db: what responders look for in PostgreSQL during an incident (transaction ages in drill
seconds, like every duration a team sees)."""

from __future__ import annotations

from typing import Any

from lab.actions.base import Action, ActionContext, NoArgs

QUERIES = {
    "by_state": (
        "SELECT coalesce(usename, '-'), coalesce(application_name, ''), coalesce(state, '-'), count(*) "
        "FROM pg_stat_activity WHERE backend_type = 'client backend' GROUP BY 1, 2, 3 ORDER BY 4 DESC"
    ),
    "longest": (
        "SELECT pid, usename, state, extract(epoch FROM now() - xact_start)::int, left(query, 80) "
        "FROM pg_stat_activity WHERE xact_start IS NOT NULL AND backend_type = 'client backend' "
        "ORDER BY xact_start LIMIT 5"
    ),
    "blocked": (
        "SELECT pid, pg_blocking_pids(pid), left(query, 80) FROM pg_stat_activity "
        "WHERE cardinality(pg_blocking_pids(pid)) > 0"
    ),
    "locks": (
        "SELECT c.relname, l.mode, l.granted, count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relnamespace = 'public'::regnamespace GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 10"
    ),
}


def run(ctx: ActionContext, _args: NoArgs) -> dict[str, Any]:
    stack = ctx.stack
    (max_conn,), = stack.sql("SELECT current_setting('max_connections')::int")
    (reserved,), = stack.sql("SELECT current_setting('superuser_reserved_connections')::int")
    by_state = stack.sql(QUERIES["by_state"])
    used = sum(int(row[3]) for row in by_state)
    return {
        "connections_used": used,
        "max_connections": max_conn,
        "superuser_reserved": reserved,
        "by_state": [{"user": u, "application": a, "state": s, "count": int(n)} for u, a, s, n in by_state],
        "longest_transactions": [
            {"pid": p, "user": u, "state": s, "age_s": round(ctx.drill_s(age or 0)), "query": q}
            for p, u, s, age, q in stack.sql(QUERIES["longest"])
        ],
        "blocked": [{"pid": p, "blocked_by": list(b), "query": q} for p, b, q in stack.sql(QUERIES["blocked"])],
        "locks": [{"table": t, "mode": m, "granted": g, "count": int(n)} for t, m, g, n in stack.sql(QUERIES["locks"])],
    }


ACTION = Action("inspect-db", "connections by state against max_connections, longest transactions, locks",
                NoArgs, run, "inspect")
