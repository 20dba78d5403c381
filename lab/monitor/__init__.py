"""The SLO monitor: a synthetic probe, scrapes of Arcade and PostgreSQL, alert rules with `for:`.

    signals.py  pure: probe results -> per-second SLIs; samples -> the signals rules read
    rules.py    pure: AlertRule, overrides, evaluate(rules, states, signals, t)
    probe.py    player journeys at a fixed modest rate, every step bounded by a timeout
    scrape.py   Arcade's /metrics;  pgwatch.py  pg_stat_activity over one non-hanging connection
    events.py   alert events and the JSONL sink;  monitor.py  the one-second loop and its thread
    load.py     the lab's typed client for the load generator's control interface
    view.py     the live terminal view;  cli.py  `gameday load set|show` and `gameday monitor`

The monitor shares nothing with Arcade: its own sockets, its own DB connection, its own loop.
"""
