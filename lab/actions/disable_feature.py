"""disable-feature: switch one of Arcade's features off while it runs (graceful degradation).

A disabled feature answers 503 with Retry-After at once, without a database connection, so the
rest of the site keeps the connections it needs. No restart.
"""

from __future__ import annotations

from typing import Any, Literal

from arcade.features import FEATURES
from lab.actions.base import Action, ActionContext, Args

Feature = Literal[tuple(FEATURES)]  # type: ignore[valid-type]  # Arcade's own list of features


class FeatureArgs(Args):
    flag: Feature  # type: ignore[valid-type]


def run(ctx: ActionContext, args: FeatureArgs) -> dict[str, Any]:
    before = list(ctx.stack.settings().web.disabled_features)
    after = ctx.stack.set_disabled_features([*before, args.flag])
    return {"feature": args.flag, "routes": list(FEATURES[args.flag]), "disabled": after,
            "already_disabled": args.flag in before}


ACTION = Action("disable-feature", "switch an Arcade feature off (503 without touching the DB)", FeatureArgs, run,
                "change", example={"flag": "leaderboard"})
