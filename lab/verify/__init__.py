"""`gameday verify`: prove that every scenario still breaks the site and still heals.

    scenario ─▶ validate ─▶ stack up ─▶ autopilot drill ─────────────────────▶ wrong-turns drill ─▶ teardown
                                         │ steady state, schedule,             │ on a fresh stack
                                         │ each fault's symptom, SLO breach,   │ scores below the autopilot?
                                         │ recovery, score >= par              │
                                         ▼                                     ▼
                               run dir (events.jsonl, sli.jsonl) ──▶ pure evaluation ──▶ Checks ──▶ table, JUnit XML

Pure (no clock, file, socket or process): `model` (checks and reports as data), `evaluate`
(measured figures against a scenario's expectations) and `junit` (the XML document).
I/O: `pipeline` (stacks and drills for one scenario) and `cli` (the command, parallel jobs).
"""
