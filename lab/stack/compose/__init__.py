"""The compose stack: the same lab on a real Docker engine, one Compose project per team.

    stack.py       the lifecycle: up, down, state, scale, settings, the pooler   (ComposeStack)
    env.py         what docker-compose.yml is told: variables, Arcade's env file, the proxy's links (pure)
    files.py       what the stack writes for Compose to read: secrets, compose.env, arcade.env, ...
    cli.py         the Compose CLI: found, run, its failures read
    containers.py  the Docker API's view of the project: containers, volumes, logs, stats, events
    service.py     one service's containers: restart, stop, start, pause, resume, kill   (ComposeService)
"""

from lab.stack.compose.containers import remove_orphans
from lab.stack.compose.stack import ComposeStack

__all__ = ["ComposeStack", "remove_orphans"]
