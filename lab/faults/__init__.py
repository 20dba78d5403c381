"""The fault library: one file per kind, registered here by name (an explicit dict to grep).

    base.py     what a fault is (Fault, its facts, FaultContext)   <kind>.py  one file per kind
    engine.py   inject / revert / recover, journaled first         journal.py the fault journal
    helper.py   scaffolding of the helper processes a fault runs   toxics.py  the network faults' toxic
                (holder.py, ddl_worker.py, churn_worker.py)        cli.py     gameday inject | revert | faults
    watchdog.py the process that reverts faults whose lease ran out (the embedded stack runs one)

Each fault is journaled before it is injected (lab.faults.journal) and always revertible. A new
kind is its file (a `Fault` with its facts) plus one line below.
"""

from __future__ import annotations

from lab.faults import (
    bad_deploy,
    connection_hog,
    db_max_connections,
    db_pause,
    db_restart,
    db_stop,
    ddl_lock_queue,
    health_check_churn,
    lock_contention,
    net_bandwidth,
    net_down,
    net_latency,
    net_reset_peer,
    net_timeout,
    slow_query,
    traffic_surge,
    web_worker_kill,
)
from lab.faults.base import Fault

FAULTS: dict[str, Fault] = {
    "traffic_surge": traffic_surge.FAULT,
    "connection_hog": connection_hog.FAULT,
    "db_max_connections": db_max_connections.FAULT,
    "db_stop": db_stop.FAULT,
    "db_restart": db_restart.FAULT,
    "db_pause": db_pause.FAULT,
    "lock_contention": lock_contention.FAULT,
    "ddl_lock_queue": ddl_lock_queue.FAULT,
    "health_check_churn": health_check_churn.FAULT,
    "slow_query": slow_query.FAULT,
    "net_latency": net_latency.FAULT,
    "net_bandwidth": net_bandwidth.FAULT,
    "net_timeout": net_timeout.FAULT,
    "net_reset_peer": net_reset_peer.FAULT,
    "net_down": net_down.FAULT,
    "web_worker_kill": web_worker_kill.FAULT,
    "bad_deploy": bad_deploy.FAULT,
}

FAULT_PARAMS = {name: fault.params for name, fault in FAULTS.items()}
