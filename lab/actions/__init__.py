"""The responder toolbox: one small function per action, registered here by name."""

from __future__ import annotations

from lab.actions import (
    check_network,
    comms,
    disable_feature,
    enable_pooler,
    inspect_db,
    inspect_web,
    kill_query,
    logs,
    restart,
    rollback_deploy,
    scale_web,
    set_db_setting,
    shed_load,
    status,
    terminate_blocking,
    terminate_idle,
)
from lab.actions.base import Action

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        comms.ACK,
        comms.NOTE,
        comms.ROLE,
        comms.UPDATE,
        comms.ESCALATE,
        comms.RESOLVE,
        status.ACTION,
        logs.ACTION,
        inspect_db.ACTION,
        check_network.ACTION,
        inspect_web.ACTION,
        scale_web.ACTION,
        restart.ACTION,
        terminate_idle.ACTION,
        terminate_blocking.ACTION,
        kill_query.ACTION,
        shed_load.ACTION,
        rollback_deploy.ACTION,
        enable_pooler.ACTION,
        set_db_setting.ACTION,
        disable_feature.ACTION,
    )
}
