"""Player traffic for Arcade: an open-loop arrival-rate generator with a local control interface.

    python -m loadgen --target http://127.0.0.1:WEBPORT --control 127.0.0.1:CPORT --rate R
                      [--shape constant|step|ramp|spike --to R2 --at S --over S --duration S]
                      [--mix lobby=30,leaderboard=25,...] [--timeout 5] [--max-conns 1000] [--seed N]

Open loop: requests start at the shape's scheduled times whatever the responses do; latency is
counted from the scheduled start, so an overloaded site shows its true latency and errors (no
coordinated omission). SIGTERM or SIGINT stops it within a second, every connection closed.

Control interface (HTTP on --control; JSON bodies; errors are 400/404/405 `{"error": "<one line>"}`
and change nothing):

    GET  /healthz   200 {"status": "ok"}
    GET  /state     the target, the shape and its parameters, the rate right now, the mix:
                    {"target": "http://...", "shape": "spike", "rate": 20.0, "to": 400.0, "at": 5.0,
                     "duration": 30.0, "current_rate": 20.0, "since": <unix time the shape began>,
                     "elapsed_s": 1.2, "mix": {"lobby": 30.0, ...}, "timeout_s": 5.0}
    POST /rate      switch now to a shape: {"rate": 20} (constant) or
                    {"shape": "step",  "rate": 20, "to": 400, "at": 5}
                    {"shape": "ramp",  "rate": 20, "to": 400, "over": 60}
                    {"shape": "spike", "rate": 20, "to": 400, "at": 5, "duration": 30}
                    optionally "mix": {"lobby": 1, "login": 2}; answers the new /state
    GET  /stats     ?seconds=N (1-300, default 10) or ?since=UNIXTIME: whole seconds, each
                    {"t": <unix second>, "issued": n, "completed": n,
                     "counts": {route: {outcome: n}}, "latency_ms": {"p50", "p90", "p99", "max"},
                     "lag_max_ms": <how late the generator sent its latest request>}
                    plus "totals" since start, "target_rate", "in_flight", "connections"
    GET  /metrics   Prometheus text: loadgen_requests_total{route,outcome}, loadgen_issued_total,
                    loadgen_latency_seconds{route} (histogram), loadgen_target_rate, loadgen_achieved_rate,
                    loadgen_last_second_latency_seconds{quantile}, loadgen_schedule_lag_seconds,
                    loadgen_in_flight, loadgen_connections

Outcomes are HTTP status codes, `timeout` (no full answer within --timeout of the scheduled
start), `error` (connection refused/reset) or `missed` (the generator itself was more than a
timeout behind and never sent it; counted under route `all`). `issued` counts by scheduled second, outcomes by the second
they ended.

Modules: shapes (pure rate functions and arrival schedule), mix (routes, weights, request
bytes), stats (per-second counts, log histograms), client (lean keep-alive HTTP/1.1 pool),
generator (the open loop), control and metrics (the interface), __main__ (flags, signals).
"""
