"""`gameday images build [--offline] | list`: the images of the Compose stack."""

from __future__ import annotations

import time

import click
from rich.console import Console

from lab.output import print_json, print_table, stdout_console
from lab.stack import image_build
from lab.stack import images as img
from lab.stack.engine import engine

console = stdout_console()  # piped: `images list` lines whole, never wrapped at 80 columns
err = Console(stderr=True, highlight=False)


@click.group()
def images() -> None:
    """Build or list the images of the Compose stack."""


@images.command("build")
@click.option("--offline", is_flag=True,
              help="Build every image here from the OS package mirror (debootstrap) and wheels built on this "
                   "host; no container registry needed.")
@click.option("--force", is_flag=True, help="Rebuild even when an image with the same inputs exists.")
def build(offline: bool, force: bool) -> None:
    """Build (or reuse) every image `gameday up --stack compose` needs, and remember the choice."""
    client = engine()
    run = image_build.build_offline if offline else image_build.build_public
    if err.is_terminal:
        with err.status("images ...") as spinner:
            report = run(client, progress=lambda msg: spinner.update(msg), force=force)
    else:  # a log (CI): one line per step, with the time since the start
        started = time.monotonic()
        report = run(client, progress=lambda msg: err.print(f"images [{time.monotonic() - started:5.0f} s] {msg}"),
                     force=force)
    print_table(f"images ({'offline' if offline else 'public'}) in {report.seconds:.0f} s",
                ("image", "what happened", "seconds", "size MB"),
                [(out.image, "built" if out.built else "reused", f"{out.seconds:.0f}",
                  "-" if out.size_mb is None else f"{out.size_mb:.0f}") for out in report.outcomes])
    for var, name in report.images.items():
        console.print(f"  {var}={name}")
    console.print(f"written to {report.env_file}")


@images.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the images as JSON.")
def list_images(as_json: bool) -> None:
    """Show the image each variable stands for, and whether it is present here."""
    client = engine()
    chosen = [(var, name, img.present(client, name)) for var, name in img.chosen().items()]
    if as_json:
        print_json([{"variable": var, "image": name, "present": here} for var, name, here in chosen])
        return
    print_table("images", ("variable", "image", "here"),
                [(var, name, "present" if here else "missing") for var, name, here in chosen])
