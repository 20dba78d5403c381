"""Logging in with a seeded (or any) player's username and password."""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from arcade import db
from arcade.views.body import json_object, str_field

bp = Blueprint("auth", __name__)


def password_hash(salt: str, password: str) -> str:
    """The stored form of a password: hex sha256(salt || password) (a toy scheme)."""
    return hashlib.sha256((salt + password).encode("utf-8")).hexdigest()


@bp.post("/login")
def login() -> ResponseReturnValue:
    """Check a username and password: 200 with the player, or 401 bad_credentials."""
    body = json_object()
    username, password = str_field(body, "username"), str_field(body, "password")
    row = db.fetch_one(
        "SELECT id, username, password_salt, password_hash FROM players WHERE username = %s",
        (username,),
    )
    if row is None or not hmac.compare_digest(
        password_hash(row["password_salt"], password), row["password_hash"]
    ):
        return jsonify(error="bad_credentials"), 401
    return jsonify(player_id=row["id"], username=row["username"])
