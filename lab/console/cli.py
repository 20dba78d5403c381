"""`gameday console`: the web console for the facilitator and the team of a drill."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from lab.console.info import banner, token_options, write_token_file
from lab.console.server import is_loopback, serve
from lab.stack.cli import stack_options
from lab.stack.state import default_root

out = Console(highlight=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback makes the console reachable from the network.")
@click.option("--port", type=click.IntRange(0, 65535), default=8300, show_default=True, help="Port (0: a free one).")
@click.option("--scenarios", "scenario_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Directory of scenarios the facilitator can start [default: the lab's scenarios/].")
@token_options
@click.option("--quiet", is_flag=True, help="Print nothing (the address and tokens are in <root>/console/<name>/console.json).")
@click.option("--stop", is_flag=True, help="Stop the console serving NAME (e.g. left up by `drill --console` for the "
                                           "debrief) instead of starting one.")
@stack_options
def console(host: str, port: int, scenario_dir: Path | None, token_file: Path | None, show_team_token: bool,
            quiet: bool, stop: bool, name: str, root: Path | None) -> None:
    """Serve the drill console for the stack NAME: the team view, the facilitator view, history.

    The facilitator's token is printed here (or written to --token-file); the team token only with
    --show-team-token. Both are in <root>/console/NAME/console.json (readable by you only)."""
    from lab.catalog import CATALOG
    from lab.console.app import ConsoleConfig
    from lab.console.info import info_path
    from lab.stack.state import check_name

    base = (root or default_root()).absolute()
    check_name(name)  # the stack name is checked like every other command's
    if stop:
        from lab.console.info import stop_console

        pid = stop_console(base, name)
        out.print(f"console of '{name}' stopped (pid {pid})" if pid else f"no console is serving '{name}'")
        return
    config = ConsoleConfig(stack=name, root=base, scenario_dir=(scenario_dir or CATALOG.scenario_dir).absolute())
    if token_file is not None:
        token_file = token_file.absolute()
        write_token_file(token_file, config.facilitator_token)

    def announce(info: dict[str, object]) -> None:
        if quiet:
            return
        for line in banner(info, show_team_token=show_team_token, token_file=token_file,
                           info_file=info_path(base, name)):
            out.print(line, soft_wrap=True)
        if not is_loopback(host):
            out.print(f"[yellow]warning:[/] listening on {host}: anyone who can reach it and has a token can act "
                      "(plain HTTP)")
        out.print("Ctrl-C to stop.")

    serve(config, host, port, announce)
