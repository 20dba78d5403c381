"""Hostile text through every way a team writes (note, update, role name, escalate team, shell
command, the console's forms and its login name) and out through every writer: the terminal
timeline, the score card, report.md, report.html and the console's timeline.

The team's moves go through the lab's own paths: `gameday note|update|role|escalate` as real
processes against a drill marker (no stack is needed for words), the recorded shell's
event_for + record_team, and the console's /team/act form through Flask's test client."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import html5lib
import pytest
from markdown_it import MarkdownIt

from console.app_helpers import logged_in, make_app
from console.run_files import marker
from lab.timeline.recorder import active_drill, record_team
from lab.timeline.shell import event_for
from lab.stack.open import open_stack
from report_helpers import write_run

ESC_RED = "\x1b[31m"
TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title when printed raw
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[click](javascript:alert(1))"
PIPES = "| a | b |"
# what fits in a role name or an escalated team (at most 100 characters)
SHORT = f"{ESC_RED}{IMG}{PIPES}{TITLE}"
LONG = f"{ESC_RED}{SCRIPT} {IMG} {LINK} {PIPES}\n# not a heading {TITLE} \u202e reversed"
BIG = "x" * 100_000 + ESC_RED + SCRIPT  # a 100 KB shell command, hostile at the very end
NUL = f"nul\x00byte {SCRIPT}"

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # what no output may carry (tab, LF, CR allowed)
STACK = "blue"


@pytest.fixture(scope="module")
def drill_process() -> Iterator[subprocess.Popen[bytes]]:
    """A live process standing in for the drill: what the team commands check is that its pid runs."""
    proc = subprocess.Popen(["sleep", "300"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def gameday(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI in a process, stdout a pipe."""
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**_env(), "GAMEDAY_ROOT": str(root)})


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "NO_COLOR"}


@pytest.fixture(scope="module")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "gd"


@pytest.fixture(scope="module")
def hostile_run(run_root: Path, drill_process: subprocess.Popen[bytes]) -> Path:
    """A March run whose team wrote hostile text through every channel (written once for the module)."""
    run_dir = write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue")
    marker(run_root, STACK, drill_process.pid, run_dir)
    team = [("note", "--actor", f"ann{ESC_RED}", LONG),
            ("update", "--audience", "external", LONG),
            ("role", "IC", SHORT),
            ("escalate", SHORT)]
    for command, *args in team:
        done = gameday(run_root, command, "--name", STACK, *args)
        assert done.returncode == 0, done.stderr
    drill = active_drill(open_stack(STACK, run_root))
    for command in (NUL, BIG):  # as the recorded shell records a typed command
        kind, data = event_for({"command": command, "started_at": time.time(), "exit_code": 0, "duration_s": 0.1})
        record_team(drill, kind, f"carol{ESC_RED}", data)
    return run_dir


@pytest.fixture(scope="module")
def reported(hostile_run: Path, run_root: Path) -> Path:
    """The run after `gameday report` wrote report.md and report.html."""
    done = gameday(run_root, "report", hostile_run.name)
    assert done.returncode == 0, done.stderr
    return hostile_run


def test_the_terminal_timeline_shows_escapes_and_never_sends_them(hostile_run, run_root):
    shown = gameday(run_root, "timeline", hostile_run.name)
    assert shown.returncode == 0, shown.stderr
    assert not CONTROL.search(shown.stdout) and "\u202e" not in shown.stdout
    assert "\\x1b[31m" + SCRIPT in shown.stdout  # visible, as text
    assert "nul\\x00byte" in shown.stdout and "\\x1b]0;pwned\\x07" in shown.stdout
    lines = shown.stdout.splitlines()
    assert len(lines) == len((hostile_run / "events.jsonl").read_text().splitlines())  # one line per event
    assert any(line.endswith("x" * 100_000 + "\\x1b[31m" + SCRIPT + "  (exit 0, 0.1 s)") for line in lines)
    card = gameday(run_root, "score", hostile_run.name)
    assert card.returncode == 0 and not CONTROL.search(card.stdout)


def test_report_md_reads_as_text_in_a_viewer_that_renders_html(reported):
    md = (reported / "report.md").read_text()
    assert not CONTROL.search(md)
    assert "<script" not in md and "<img" not in md
    assert "\\[click\\](javascript:alert(1))" in md  # the brackets escaped: no link
    # team text never starts a line of its own (no heading, no table row)
    assert not any(line.startswith("# not a heading") or line.startswith("| a |") for line in md.splitlines())
    # rendered as a viewer does, raw HTML allowed: no element, link or table comes from the team's words
    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert "<script" not in rendered and "<img" not in rendered and "javascript:" not in rendered.replace(
        "javascript:alert(1))", "")  # the words stay, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered and "[click](javascript:alert(1))" in rendered
    tables = re.findall(r"<table>.*?</table>", rendered, re.S)
    comparison = next(t for t in tables if "this drill" in t)
    assert all(row.count("<td") == 3 for row in re.findall(r"<tr>.*?</tr>", comparison, re.S)[1:])
    assert "Escalated to the " in rendered and "| a | b |" in rendered  # the pipes as text in the bullet


def test_report_html_has_no_control_bytes_and_no_live_markup(reported):
    page = (reported / "report.html").read_text()
    assert not CONTROL.search(page)
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    assert not tree.findall(".//script") and not tree.findall(".//img")
    assert not [a for a in tree.iter("a") if "javascript" in (a.get("href") or "")]
    text = "".join(tree.itertext())
    assert "\\x1b[31m" + SCRIPT in text and "nul\\x00byte" in text  # what they wrote, visibly


def test_the_consoles_timeline_shows_a_hostile_form_and_names_as_text(hostile_run, run_root):
    app = make_app(run_root, STACK)
    team = logged_in(app, "team", "bob")  # the login refuses a name of anything but words
    answer = team.post("/team/act", data={"csrf_token": team.csrf, "action": "note", "arg_text": NUL + LINK})
    assert answer.status_code in (200, 303), answer.text[:500]
    page = team.get("/team").text
    assert not CONTROL.search(page)
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    assert not [s for s in tree.iter("script") if not s.get("src")]  # only the console's own script files
    assert not tree.findall(".//img")
    text = "".join(tree.itertext())
    assert "nul\\x00byte " + SCRIPT in text  # the form's note, on the timeline
    assert "ann\\x1b[31m" in text  # a name given to the CLI, as actor
    facilitator = logged_in(app, "facilitator").get("/facilitator").text  # the same timeline, the facilitator's page
    assert not CONTROL.search(facilitator) and "nul\\x00byte" in facilitator
    assert not html5lib.HTMLParser(namespaceHTMLElements=False).parse(facilitator).findall(".//img")
    assert "\\x1b[31m" + SCRIPT in text  # the CLI's note
