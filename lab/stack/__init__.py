"""Where Arcade runs: one `Stack` interface, several kinds of stack behind it.

                    ┌──────────── Stack protocol (base.py) ────────────┐
    callers ──────▶ │ up/down/state/status · service(name) · scale_web │   faults, actions, runner,
    (typed against  │ sql · admin_target · app_dsn · urls · logs · ... │   monitor, observers, verify,
     the protocol)  │ capabilities: what a kind truly cannot do        │   console, CLI
                    └───────────────┬───────────────────┬──────────────┘
                                    │                   │
                     local/ (processes)          compose/ (containers)         open.py picks one
                     LocalStack                  ComposeStack                  by name or --stack
                          └──── common.py: StackBase, what every kind shares ────┘
                                (state file + lock, settings, addresses, admin SQL,
                                 status skeleton, the pooler switch)

    shared by every kind               only one kind's
    ───────────────────────────────    ───────────────────────────────────────────────────
    config.py   the settings model     local/specs.py    how each process is run
    state.py    run dir, state.json    local/service.py  one service's process tree
    ports.py    the port table         postgres.py, pg_template.py, pgbin.py, procs.py
    health.py   HTTP/TCP/exec checks   compose/env.py    what docker-compose.yml is told
    service_config.py  what Arcade     compose/cli.py    the Compose CLI
                and PostgreSQL are     compose/containers.py  the Docker API's view
                told                   compose/service.py     one service's containers
    pooler.py   PgBouncer's config     engine.py, images.py, image_build.py, debian_mirror.py
    files.py    write-then-replace     (the Docker engine and the images of container kinds)

A new kind is a folder beside local/ and compose/, one line in open.KIND_CLASSES, and a pass of
tests/stack/test_conformance.py (docs/extending.md).
"""
