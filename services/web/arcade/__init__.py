"""Arcade: the toy online-gaming site (Flask + PostgreSQL) that the lab breaks.

    create_app(config=None) -> Flask    settings from ARCADE_* variables (see arcade.config)
    arcade.seed.install(conn)           schema + demo data
    gunicorn -c python:arcade.gunicorn_conf 'arcade:create_app()'
"""

from __future__ import annotations

from arcade.app import create_app

__all__ = ["create_app"]
