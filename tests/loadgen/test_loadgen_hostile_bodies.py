"""The load generator's control API over real HTTP with the hostile corpus (tests/hostile_inputs.py):
a one-line JSON 400 (413 past the size limit), quickly, and the load it was generating unchanged."""

from __future__ import annotations

import time

from hostile_inputs import json_cases


def test_hostile_rate_bodies_are_one_line_errors_and_change_nothing(loadgen):
    _proc, lg = loadgen("http://127.0.0.1:9", "--rate", "0")
    lg.set(shape="spike", rate=0, to=0, at=60, duration=1)
    before = {k: v for k, v in lg.get("/state").items() if k != "elapsed_s"}
    cases = [(c.name, c.data, 413 if c.name == "huge" else 400,
              "larger than 65536 bytes" if c.name == "huge" else c.says.replace("64 levels", "16 levels"))
             for c in json_cases()]
    cases.append(("duplicate-rate", b'{"rate": 0, "rate": 50000}', 400, "duplicate key 'rate'"))
    cases.append(("latin-1-mix", '{"rate": 1, "mix": {"lobbé": 1}}'.encode("latin-1"), 400, "not UTF-8: byte 0xe9 at offset 25"))
    for name, body, status, says in cases:
        started = time.monotonic()
        got, answer = lg.call("POST", "/rate", raw=body)
        assert time.monotonic() - started < 2.0, name
        assert got == status and isinstance(answer, dict), (name, got, answer)
        assert answer["error"].startswith("body: ") and says in answer["error"] and "\n" not in answer["error"], (name, answer)
        assert {k: v for k, v in lg.get("/state").items() if k != "elapsed_s"} == before, name
