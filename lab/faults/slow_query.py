"""slow_query: the leaderboard's index dropped, so the hot query scans and sorts for real."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lab.faults.base import Fault, FaultContext, FaultError, Params, Symptom


class SlowQueryParams(Params):
    index: str = Field("best_scores_leaderboard", pattern=r"^[a-z_][a-z0-9_]{0,62}$")


def _definition(ctx: FaultContext, index: str) -> str | None:
    rows = ctx.stack.sql("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = %s", (index,))
    return rows[0][0] if rows else None


def snapshot(ctx: FaultContext, p: SlowQueryParams) -> dict[str, Any]:
    definition = _definition(ctx, p.index)
    if definition is None:
        raise FaultError(f"slow_query: no index '{p.index}' in Arcade's database")
    return {"definition": definition}


def inject(ctx: FaultContext, p: SlowQueryParams) -> dict[str, Any]:
    ctx.stack.sql(f'DROP INDEX IF EXISTS "{p.index}"')
    return {}


def revert(ctx: FaultContext, p: SlowQueryParams, data: dict[str, Any]) -> None:
    definition = data.get("definition")
    if definition and _definition(ctx, p.index) is None:
        ctx.stack.sql(definition)
        ctx.stack.sql("ANALYZE")


def cause_present(ctx: FaultContext, p: SlowQueryParams, data: dict[str, Any]) -> bool:
    return _definition(ctx, p.index) is None


FAULT = Fault(
    name="slow_query",
    summary="drop the index behind a hot query (restored on revert)",
    params=SlowQueryParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("the leaderboard gets slower; under load its connections are held longer",
                    route="/leaderboard"),
    observed_as=('db.connections_terminated',),
    example={},
    snapshot=snapshot,
)
