"""The drill console: a small Flask site for the room where a game day runs.

    browser ──HTTP──▶ console (Flask, threaded, 127.0.0.1 by default)
                        │ team view:        alerts, services, SLO chart, timeline (server-sent
                        │                   events), toolbox and incident forms
                        │ facilitator view: start / halt a drill, hints, ad-hoc faults, live score
                        │ history:          past runs, leaderboard per scenario, reports
                        ▼
      the same files and code paths as the CLI: drill marker, events.jsonl, sli.jsonl,
      lab.actions.perform, lab.faults.engine, `gameday drill` as a child process

The console keeps its own resources: it never queries Arcade or its database to draw a page
(everything comes from the files the drill writes), so it keeps answering while the site is down.
"""
