"""A drill's record: its run directory, its durable timeline, and who writes to it.

    rundir.py         the run directory: file names, finding runs, the one SLI reader
    store.py          the timeline: append-only JSONL, each event fsynced
    recorder.py       team events onto the timeline of the drill running on a stack
    observers.py      changes made outside the lab (embedded stack); docker_events.py (compose)
    shell.py          `gameday shell`: the responder's own shell, every command recorded
    cli.py            `gameday timeline` and `gameday shell`
"""
