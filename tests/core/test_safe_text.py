"""lab.core.safe_text: one rule per medium, checked on a table of hostile samples and, for
Markdown, by rendering what it writes with a CommonMark renderer that lets raw HTML through."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

from lab.core import safe_text

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
RENDER = MarkdownIt("commonmark", {"html": True}).enable("table")


@pytest.mark.parametrize("text, terminal, markdown", [
    ("\x1b[31mred", "\\x1b[31mred", "\\\\x1b\\[31mred"),
    ("a\x00b\x7f\x9bc", "a\\x00b\\x7f\\x9bc", "a\\\\x00b\\\\x7f\\\\x9bc"),
    ("<script>x</script>", "<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
    ("[a](http://e) | b", "[a](http://e) | b", "\\[a\\](http://e) \\| b"),
    ("line\n# head", "line\\x0a# head", "line \\# head"),
    ("&amp; & b", "&amp; & b", "&amp;amp; & b"),
    ("\u202eabc", "\\u202eabc", "\\\\u202eabc"),
    ("bad \udcff byte", "bad \\udcff byte", "bad \\\\udcff byte"),
    ("pool_size _em_ __init__", "pool_size _em_ __init__", "pool_size \\_em\\_ \\_\\_init\\_\\_"),
    ("- a list", "- a list", "\\- a list"),
    ("1. a list", "1. a list", "1\\. a list"),
])
def test_each_medium_has_one_rule(text, terminal, markdown):
    assert safe_text.terminal(text) == terminal
    assert safe_text.markdown(text) == markdown
    assert not CONTROL.search(safe_text.html(text))
    assert safe_text.json_safe({"k\udcff": [text]}) == {"k\\udcff": [safe_text.json_safe(text)]}
    safe_text.json_safe(text).encode("utf-8")  # always encodes


def test_html_keeps_line_breaks_and_tabs_and_terminal_keeps_what_it_is_told():
    assert safe_text.html("tab\tand\nline\x1b") == "tab\tand\nline\\x1b"
    assert safe_text.terminal("a\nb\tc", keep="\n") == "a\nb\\x09c"


@pytest.mark.parametrize("text", ["`code` and ``two``", "```", "` padded `", "plain"])
def test_a_code_span_holds_any_backticks(text):
    rendered = RENDER.render(safe_text.markdown_code(text))
    assert html.unescape(re.fullmatch(r"<p><code>(.*)</code></p>\n", rendered, re.S).group(1)) == text


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(min_size=1, max_size=80),
                 st.text(st.sampled_from(list("*_`[]()<>&#;!|~-+=.:/\\\n 1aé\x00\x1b")), min_size=1, max_size=40))
       .filter(str.strip))
def test_any_text_renders_as_exactly_itself(text):
    """Whatever a team types, a Markdown viewer shows its words and nothing else: one paragraph,
    no tag, link, emphasis, list or heading."""
    rendered = RENDER.render(safe_text.markdown(text))
    inner = re.fullmatch(r"<p>(.*)</p>\n", rendered, re.S)
    assert inner is not None, rendered
    assert "<" not in inner.group(1)
    assert html.unescape(inner.group(1)) == safe_text.visible(" ".join(text.split()))
