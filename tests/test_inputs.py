"""Every file and value the lab reads from people, through the real CLI: the hostile corpus
(tests/hostile_inputs.py) gets exit 2, one line on stderr naming the file, no traceback, in
under 2 s, and nothing started.

    gameday validate SCENARIO        the scenario, its runbook's machine block, its original path
    gameday up --config FILE / --set KEY=VALUE
    gameday proxy -config FILE

"Under 2 s" is the child's CPU time (wait4's rusage), imports included: it is what a bomb or a
runaway parser would burn, and unlike wall time it does not grow when the machine is busy with
other work. Peak memory (maxrss) is bounded the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_inputs import Case, alias_bomb, json_cases, yaml_cases

REPO = Path(__file__).resolve().parents[1]
MARCH = REPO / "scenarios" / "march-2023-db-overload.yaml"


@dataclass
class Ran:
    code: int
    stderr: str
    seconds: float
    cpu_seconds: float
    max_rss_mb: float


# A small launcher measures the command: its wait4 rusage is the command's own. Measured straight
# from this process, the peak memory would include this (large) test worker's, which Linux carries
# over from the fork into the child's high-water mark.
LAUNCHER = (
    "import json, os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_pid, status, usage = os.wait4(proc.pid, 0)\n"
    "proc.returncode = -1\n"
    "print(json.dumps([os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))\n"
)


def _run(args: list[str | bytes], env: dict[str, str], cwd: Path, timeout: float) -> Ran:
    """One subprocess, with its own CPU time and peak memory (wait4's rusage, via LAUNCHER) and wall time."""
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-m", "lab.cli", *args],
                              capture_output=True, env=env, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"gameday {args!r} did not finish within {timeout:.0f} s") from exc
    code, cpu, max_rss_kb = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return Ran(code, proc.stderr.decode("utf-8", errors="replace"), time.monotonic() - started, cpu, max_rss_kb / 1024)


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "GAMEDAY_ROOT": str(root), "COLUMNS": "200",
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


@pytest.fixture
def gameday_in(tmp_path: Path) -> Iterator:
    """`gameday ARGS` as a subprocess of this tree's code, in tmp_path, with its own GAMEDAY_ROOT."""
    root = tmp_path / "gd"

    def run(*args: str | bytes, timeout: float = 30) -> Ran:
        ran = _run(list(args), _env(root), tmp_path, timeout)
        # Under 2 s of the CPU, imports included (~0.7 s of wall time on an idle machine), and the
        # memory of a small CLI: a bomb that expanded or a parser that recursed would show in both.
        # Wall time only has to show it did not hang: on a busy machine it is several times the CPU.
        assert ran.cpu_seconds < 2.0, f"used {ran.cpu_seconds:.2f} s of CPU"
        assert ran.seconds < 20, f"took {ran.seconds:.2f} s"
        assert ran.max_rss_mb < 200, f"peak memory {ran.max_rss_mb:.0f} MB"
        return ran

    yield run
    if root.exists():  # something started after all: take it down so the failure is the only harm
        subprocess.run([sys.executable, "-m", "lab.cli", "down", "--all", "--purge"], env=_env(root),
                       capture_output=True, timeout=120)
    assert not root.exists() or not list(root.glob("*/state.json")), "a stack was started"


def refused(ran: Ran, names: str, says: str) -> str:
    lines = ran.stderr.strip().splitlines()
    assert ran.code == 2, (ran.code, ran.stderr[-2000:])
    assert len(lines) == 1, ran.stderr[-2000:]
    assert "Traceback" not in ran.stderr
    assert lines[0].startswith("Error: ") and names in lines[0] and says in lines[0], lines[0]
    return lines[0]


def in_front_matter(case: Case) -> bytes:
    """A runbook whose machine block is the case (a whole-file case is the file as it is)."""
    return case.data if case.whole else b"---\n" + case.data + b"\n---\n# Runbook\n\nText for people.\n"


# --- scenarios, runbooks, original paths ----------------------------------------------------

SCENARIO_EXTRA = [Case("empty", b"", "id: required field is missing"),
                  Case("a-list", b"- id\n- title\n", "expected a mapping with id, title, story"),
                  Case("a-string", b"just words\n", "got a string")]


@pytest.mark.parametrize("case", yaml_cases() + SCENARIO_EXTRA, ids=lambda c: c.name)
def test_validate_a_hostile_scenario(gameday_in, tmp_path, case):
    (tmp_path / "bad.yaml").write_bytes(case.data)
    refused(gameday_in("validate", "bad.yaml"), "bad.yaml: ", case.says)


RUNBOOK_EXTRA = [Case("empty", b"", "no machine-readable part"),
                 Case("a-list", b"- a\n- b\n", "expected a mapping with id, title, steps")]


@pytest.mark.parametrize("case", yaml_cases() + RUNBOOK_EXTRA, ids=lambda c: c.name)
def test_validate_a_scenario_whose_runbook_is_hostile(gameday_in, tmp_path, case):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "scenarios" / "march.yaml").write_bytes(MARCH.read_bytes())
    (tmp_path / "runbooks" / "db-connection-exhaustion.md").write_bytes(in_front_matter(case) if case.name != "empty"
                                                                         else b"")
    refused(gameday_in("validate", "scenarios/march.yaml"), "runbooks/db-connection-exhaustion.md: ", case.says)


ORIGINAL_EXTRA = [Case("empty", b"", "required field is missing"),
                  Case("a-list", b"- a\n", "expected a mapping with incident")]


@pytest.mark.parametrize("case", yaml_cases() + ORIGINAL_EXTRA, ids=lambda c: c.name)
def test_validate_a_scenario_whose_original_path_is_hostile(gameday_in, tmp_path, case):
    originals = tmp_path / "scenarios" / "originals"
    originals.mkdir(parents=True)
    (tmp_path / "scenarios" / "march.yaml").write_bytes(MARCH.read_bytes())
    (originals / "march-2023-db-overload.yaml").write_bytes(case.data)
    refused(gameday_in("validate", "scenarios/march.yaml"), "originals/march-2023-db-overload.yaml: ", case.says)


# --- gameday up --config / --set ------------------------------------------------------------

CONFIG_EXTRA = [Case("a-list", b"- db\n- web\n", "expected a mapping of sections")]


@pytest.mark.parametrize("case", yaml_cases() + CONFIG_EXTRA, ids=lambda c: c.name)
def test_up_with_a_hostile_config_file_starts_nothing(gameday_in, tmp_path, case):
    (tmp_path / "lab.yaml").write_bytes(case.data)
    refused(gameday_in("up", "--config", "lab.yaml"), "lab.yaml: ", case.says)


@pytest.mark.parametrize(
    "value, says",
    [
        (b"db.port=caf\xe9", "not UTF-8: byte 0xe9 at offset 3"),
        (b"db.port=" + b"9" * 70_000, "larger than the limit of 65,536 bytes"),
        (b"db.port=" + alias_bomb(), "aliases (*l0) are not allowed"),
        (b"db.port=" + b"[" * 10_000, "nested deeper than 16 levels"),
        (b"db.port={a: 1, a: 2}", "duplicate key 'a'"),
        (b"db.port=!!python/object/apply:os.system [true]", "tag !!python/object/apply:os.system is not allowed"),
    ],
    ids=["latin-1", "huge", "alias-bomb", "deep", "duplicate-key", "python-tag"],
)
def test_up_with_a_hostile_set_value_starts_nothing(gameday_in, value, says):
    refused(gameday_in(b"up", b"--set", value), "--set db.port=", says)


# --- gameday proxy -config -------------------------------------------------------------------

PROXY_EXTRA = [Case("empty", b"", "empty: expected a JSON value"),
               Case("an-object", b'{"name": "a"}', "expected a JSON array of proxies"),
               Case("yaml-not-json", b"- name: a\n", "not valid JSON at line 1 column 1")]


@pytest.mark.parametrize("case", json_cases() + PROXY_EXTRA, ids=lambda c: c.name)
def test_proxy_with_a_hostile_config_file_does_not_start(gameday_in, tmp_path, case):
    (tmp_path / "toxiproxy.json").write_bytes(case.data)
    refused(gameday_in("proxy", "-config", "toxiproxy.json", "-port", "0", timeout=15), "toxiproxy.json: ", case.says)


def test_an_endless_file_is_read_no_further_than_the_limit():
    """/dev/zero never ends: the reader stops at the limit + 1 byte and says so."""
    from lab.errors import UsageError
    from lab.inputs import read_yaml

    started = time.monotonic()
    with pytest.raises(UsageError, match=r"^/dev/zero: larger than the limit of 1 MiB$"):
        read_yaml(Path("/dev/zero"))
    assert time.monotonic() - started < 2.0
