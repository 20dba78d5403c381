"""People's text made safe for the medium it is written to: terminal, Markdown, HTML, JSON.

Every writer of text a team typed (notes, updates, role names, team names, shell commands) goes
through one of these; nothing here does I/O.

    terminal(text)        control and bidi characters shown as \\x1b, \\u202e: no escape reaches the tty
    markdown(text)        one line of Markdown that reads as text: no HTML, link, table cell or heading
    markdown_code(text)   the same as a code span (ids, commands), whatever backticks it holds
    html(text)            control characters made visible; <, > and & are left to the HTML escaper
    json_safe(value)      strings without lone surrogates, so JSON output is valid UTF-8
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# C0 and C1 controls, DEL, lone surrogates, and the bidirectional overrides and isolates that
# reorder what a reader sees ("Trojan source"): all are shown as escapes, never passed on.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]|~#!])")
_UNDERSCORE_EDGE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # between two letters or digits, _ emphasises nothing
_BLOCK_START = re.compile(r"^(\d{0,9})([-+=.)])")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def _shown(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with every unsafe character (see _UNSAFE) written as a visible escape, except those in `keep`."""
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _shown(m.group()), text)


def terminal(value: object, keep: str = "") -> str:
    """Text for a terminal: no ANSI escape, NUL, bell or bidi override acts on the screen.
    One line by default; `keep="\\n\\t"` for blocks of text."""
    return visible(str(value), keep)


def markdown(value: object) -> str:
    """One line of Markdown that renders as the literal text: HTML tags, links, images, emphasis,
    code spans, table pipes and headings are escaped; line breaks become spaces."""
    text = visible(" ".join(str(value).split()))
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    text = _UNDERSCORE_EDGE.sub(r"\\_", text)
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = _BLOCK_START.sub(r"\1\\\2", text)  # a list, a rule or a heading underline where a line starts
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown_code(value: object) -> str:
    """A Markdown code span of the literal text (an id, a command), outside tables: its fence is longer
    than any run of backticks inside, and control characters are made visible."""
    text = visible(" ".join(str(value).split()))
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def html(value: object) -> str:
    """Text for an HTML page before it is escaped: control characters made visible (line breaks and
    tabs kept). The caller (html.escape, Jinja's autoescape) still escapes <, > and &."""
    return visible(str(value), keep="\n\t")


def json_safe(value: Any) -> Any:
    """`value` with every string (keys included) free of lone surrogates (shown as \\udcff), so that it
    encodes as valid UTF-8 JSON. Other characters are JSON's business and left alone."""
    if isinstance(value, str):
        return re.sub("[\ud800-\udfff]", lambda m: _shown(m.group()), value)
    if isinstance(value, Mapping):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value

