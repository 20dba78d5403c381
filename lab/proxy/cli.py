"""`gameday proxy`: run the Toxiproxy-compatible proxy server in the foreground."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from lab.errors import UsageError
from lab.proxy.server import DEFAULT_VERSION, Options, ProxyServer, run


@click.command("proxy")
@click.option("--host", "-host", default="127.0.0.1", show_default=True, help="Address the control API binds.")
@click.option("--port", "-port", default=8474, show_default=True, type=click.IntRange(0, 65535),
              help="Port of the control API (0: any free port; the ready line says which).")
@click.option("--config", "-config", "config", type=click.Path(path_type=Path, dir_okay=False),
              help="JSON array of proxies, as POST /populate takes, created at startup.")
@click.option("--seed", "-seed", type=int, default=None, help="Seed for toxicity rolls and jitter (repeatable runs).")
@click.option("--proxy-metrics", "-proxy-metrics", is_flag=True, help="Serve per-proxy byte counters on /metrics.")
@click.option("--runtime-metrics", "-runtime-metrics", is_flag=True, help="Serve process metrics on /metrics.")
@click.option("--report-version", default=DEFAULT_VERSION, show_default=True,
              help="Version string GET /version answers.")
@click.option("--version", "-version", "show_version", is_flag=True, help="Print the version and exit.")
def proxy(host: str, port: int, config: Path | None, seed: int | None, proxy_metrics: bool,
          runtime_metrics: bool, report_version: str, show_version: bool) -> None:
    """Toxiproxy-compatible fault proxy (HTTP API on --host:--port) until SIGINT/SIGTERM.

    Toxiproxy's single-dash flags (-host=0.0.0.0 -port 8474 -config F ...) work too, so tools
    that start toxiproxy-server can start this instead.
    """
    if show_version:
        click.echo(f"gameday proxy version {report_version} (toxiproxy-server compatible)")
        return
    level = os.environ.get("LOG_LEVEL", "warning").upper()
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, level, logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if config is not None and not config.is_file():
        raise UsageError(f"--config {config}: no such file")
    options = Options(host, port, config, seed, proxy_metrics, runtime_metrics, report_version)

    def ready(server: ProxyServer) -> None:
        click.echo(f"gameday proxy: API on {server.url}")
        sys.stdout.flush()

    run(options, ready)
