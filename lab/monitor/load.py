"""The lab's client for the load generator's control interface (see the `loadgen` package docstring).

The scenario runner, the facilitator's CLI and the monitor's view use it; answers become types.
A 400 from the generator (bad input, nothing changed) is a UsageError; no answer is a StackError.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from lab.errors import StackError, UsageError


@dataclass(frozen=True)
class LoadState:
    """The generator's shape right now."""

    target: str
    shape: str
    params: dict[str, float]  # rate, and to/at/over/duration as the shape has them
    current_rate: float
    since: float
    mix: dict[str, float]

    @classmethod
    def of(cls, data: dict[str, Any]) -> LoadState:
        params: dict[str, float] = {k: float(data[k]) for k in ("rate", "to", "at", "over", "duration") if k in data}
        return cls(data["target"], data["shape"], params, float(data["current_rate"]), float(data["since"]),
                   dict(data.get("mix", {})))

    def describe(self) -> str:
        shown = ", ".join(f"{k} {v:g}" for k, v in self.params.items())
        return f"{self.shape} ({shown}); now {self.current_rate:g} req/s to {self.target}"


@dataclass(frozen=True)
class LoadSecond:
    """One whole second of the generator's traffic."""

    t: int
    issued: int
    outcomes: dict[str, int]  # outcome -> count, over every route
    by_route: dict[str, dict[str, int]]
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None

    @classmethod
    def of(cls, data: dict[str, Any]) -> LoadSecond:
        outcomes: dict[str, int] = {}
        for counts in data["counts"].values():
            for outcome, n in counts.items():
                outcomes[outcome] = outcomes.get(outcome, 0) + n
        lat = data["latency_ms"]
        return cls(int(data["t"]), int(data["issued"]), outcomes, data["counts"],
                   lat["p50"], lat["p90"], lat["p99"], lat["max"])

    @property
    def ok(self) -> int:
        """Answers with a 2xx status."""
        return sum(n for k, n in self.outcomes.items() if k.startswith("2"))


class LoadControl:
    """Talks to one generator at host:port."""

    def __init__(self, address: str, timeout: float = 3.0):
        self.address = address
        self.timeout = timeout

    def state(self) -> LoadState:
        return LoadState.of(self._call("GET", "/state"))

    def set(self, rate: float, shape: str = "constant", mix: dict[str, float] | None = None,
            **params: float) -> LoadState:
        """Switch to a shape now; bad input raises UsageError and changes nothing."""
        body: dict[str, Any] = {"shape": shape, "rate": rate, **params}
        if mix is not None:
            body["mix"] = mix
        return LoadState.of(self._call("POST", "/rate", body))

    def seconds(self, last: int = 10, since: float | None = None) -> list[LoadSecond]:
        query = f"since={since}" if since is not None else f"seconds={last}"
        return [LoadSecond.of(s) for s in self._call("GET", f"/stats?{query}")["seconds"]]

    def get(self, path: str) -> Any:
        """The raw JSON answer of a GET (e.g. /stats with totals, in_flight, connections)."""
        return self._call("GET", path)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://{self.address}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read()).get("error", f"HTTP {exc.code}")
            except ValueError:
                message = f"HTTP {exc.code}"
            if exc.code == 400:
                raise UsageError(message) from None
            raise StackError(f"load generator at {self.address}: {message}") from None
        except (OSError, urllib.error.URLError) as exc:
            raise StackError(f"load generator at {self.address} is not answering "
                             f"({getattr(exc, 'reason', exc)}); `gameday status` shows its health") from None
