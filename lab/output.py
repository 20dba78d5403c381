"""What the CLI writes to stdout: tables, JSON and colour, the way scripts and terminals each need.

    on a terminal      rich tables, colour (unless NO_COLOR is set), text wrapped to the window
    piped or to a file tab-separated rows without title or header (like `gh`), nothing cut or
                       wrapped, no colour; `--json` where a command lists or shows something

Every cell and line of people's text passes lab.core.safe_text.terminal first, so an escape
sequence in a note is shown, never obeyed. The JSON shapes are in lab/schemas/ (docs/json-output.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lab.core.safe_text import json_safe, terminal

Cell = str | Text


def is_terminal() -> bool:
    """Whether stdout is a terminal (a person reads it) rather than a pipe or a file."""
    return sys.stdout.isatty()


def colour_wanted() -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything (no-color.org)."""
    return is_terminal() and not os.environ.get("NO_COLOR")


def stdout_console() -> Console:
    """A rich console for stdout: piped, lines are not wrapped at 80 columns (soft wrap) and carry no
    colour; rich itself honours NO_COLOR and TERM=dumb."""
    return Console(highlight=False, soft_wrap=not is_terminal())


def _safe(cell: Cell) -> Text:
    if isinstance(cell, Text):
        return Text(terminal(cell.plain), style=cell.style)
    return Text(terminal(cell))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """A table on a terminal (its first column, the row's id, kept on one line); tab-separated rows,
    whole values and no header, when piped."""
    if not is_terminal():
        lines = ["\t".join(_safe(cell).plain.replace("\t", "\\x09") for cell in row) for row in rows]
        if lines:
            click.echo("\n".join(lines))
        return
    table = Table(title=title or None, title_justify="left")
    for i, col in enumerate(columns):  # the first column names the row (an id): never broken; the others wrap
        table.add_column(col, overflow="fold", no_wrap=i == 0)
    for row in rows:
        table.add_row(*(_safe(cell) for cell in row))
    stdout_console().print(table)


def json_text(value: object, sort_keys: bool = False) -> str:
    """`value` as indented JSON, valid UTF-8 (no lone surrogates), non-ASCII written as itself."""
    return json.dumps(json_safe(value), indent=2, ensure_ascii=False, sort_keys=sort_keys, default=str)


def print_json(value: object, sort_keys: bool = False) -> None:
    """Write `value` to stdout as JSON (see json_text)."""
    click.echo(json_text(value, sort_keys))
