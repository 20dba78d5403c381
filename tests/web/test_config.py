"""Arcade's settings: defaults, environment, dict overrides, and one-line errors for bad values."""

from __future__ import annotations

import logging

import pytest

from arcade.config import AccessMode, Settings, load_settings

DSN = "host=127.0.0.1 port=5432 dbname=arcade user=arcade"


def test_defaults_need_only_a_dsn() -> None:
    settings = load_settings(None, {"ARCADE_DSN": DSN})
    assert settings == Settings(dsn=DSN)
    assert (settings.access_mode, settings.pool_size, settings.pool_timeout_s) == (AccessMode.POOL, 4, 2.0)
    assert (settings.connect_timeout_s, settings.statement_timeout_ms, settings.request_timeout_s) == (3.0, 5000, 10.0)
    assert settings.flags == frozenset()


def test_environment_is_read_and_the_dict_wins() -> None:
    env = {
        "ARCADE_DSN": DSN,
        "ARCADE_ACCESS_MODE": "per-request",
        "ARCADE_POOL_SIZE": "7",
        "ARCADE_POOL_TIMEOUT_S": "0.5",
        "ARCADE_CONNECT_TIMEOUT_S": "1",
        "ARCADE_STATEMENT_TIMEOUT_MS": "250",
        "ARCADE_REQUEST_TIMEOUT_S": "4",
        "ARCADE_FLAGS": "broken_leaderboard",
    }
    from_env = load_settings(None, env)
    assert from_env == Settings(
        dsn=DSN, access_mode=AccessMode.PER_REQUEST, pool_size=7, pool_timeout_s=0.5,
        connect_timeout_s=1.0, statement_timeout_ms=250, request_timeout_s=4.0,
        flags=frozenset({"broken_leaderboard"}),
    )
    merged = load_settings({"access_mode": "pool", "pool_size": 2, "flags": []}, env)
    assert (merged.access_mode, merged.pool_size, merged.flags) == (AccessMode.POOL, 2, frozenset())
    assert merged.request_timeout_s == 4.0  # not in the dict: from the environment


def test_unknown_flags_are_logged_and_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="arcade"):
        settings = load_settings(None, {"ARCADE_DSN": DSN, "ARCADE_FLAGS": " broken_leaderboard, , turbo "})
    assert settings.flags == frozenset({"broken_leaderboard"})
    assert "ignoring unknown flag 'turbo'" in caplog.text
    assert "broken_leaderboard" in caplog.text  # the message lists the known flags


@pytest.mark.parametrize(
    ("config", "env", "message"),
    [
        (None, {}, "ARCADE_DSN: required"),
        ({"dsn": "  "}, {}, "ARCADE_DSN: required"),
        ({"dsn": "host=x port"}, {}, "config['dsn']: not a libpq DSN"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_ACCESS_MODE": "pooled"},
         "ARCADE_ACCESS_MODE: unknown access mode 'pooled'; valid: pool, per-request"),
        ({"access_mode": "per_request"}, {"ARCADE_DSN": DSN},
         "config['access_mode']: unknown access mode 'per_request'; valid: pool, per-request"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_POOL_SIZE": "four"}, "ARCADE_POOL_SIZE: 'four' is not a whole number"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_POOL_SIZE": "0"}, "ARCADE_POOL_SIZE: '0' is out of range; expected connections >= 1"),
        ({"pool_size": 2.5}, {"ARCADE_DSN": DSN}, "config['pool_size']: 2.5 is not a whole number"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_POOL_TIMEOUT_S": "2s"}, "ARCADE_POOL_TIMEOUT_S: '2s' is not a number; expected seconds > 0"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_CONNECT_TIMEOUT_S": "-1"}, "ARCADE_CONNECT_TIMEOUT_S: '-1' is out of range"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_REQUEST_TIMEOUT_S": "nan"}, "ARCADE_REQUEST_TIMEOUT_S: 'nan' is out of range"),
        ({"request_timeout_s": True}, {"ARCADE_DSN": DSN}, "config['request_timeout_s']: True is not a number"),
        (None, {"ARCADE_DSN": DSN, "ARCADE_STATEMENT_TIMEOUT_MS": "5s"}, "ARCADE_STATEMENT_TIMEOUT_MS: '5s' is not a whole number"),
        ({"pool_sise": 3}, {"ARCADE_DSN": DSN}, "config['pool_sise']: unknown setting; valid: dsn, access_mode, pool_size"),
    ],
)
def test_bad_values_raise_one_line_value_errors(config: dict | None, env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        load_settings(config, env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
