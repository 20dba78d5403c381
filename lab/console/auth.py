"""Who is at the console: the facilitator or a team member, by the token printed at start.

A session (a signed cookie, key new at every start) keeps the role and the person's name; the
name is the actor of every team event. Facilitator-only views refuse a team session with 403
before doing anything. A team session also keeps the generation of the team token it logged in
with: when the facilitator rotates that token, older team sessions end (401, or the login page).

`next` (where to go after logging in) is only ever a path on this console: percent-decoded, and
refused with 400 before any session is touched when it holds control characters, backslashes,
non-ASCII, a scheme or a host, or starts with `//`.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from lab.errors import UsageError

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")
NEXT_MAX = 1000  # characters of `next`; the console's own paths are far shorter
PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")  # whole values only (fullmatch)

bp = Blueprint("auth", __name__)
_rotating = threading.Lock()


def role() -> str | None:
    """The session's role; None without one, or for a team session from before a token rotation."""
    who = session.get("role")
    if who == "team" and session.get("team_gen") != current_app.config["TEAM_TOKEN_GENERATION"]:
        return None
    return who


def actor() -> str:
    return str(session.get("name") or "")


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse (login page for a page, 401/403 for anything else) unless the session has a role."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if role() is None:
                if session.get("role"):
                    session.clear()  # a team session of a rotated token: ended
                if request.method == "GET" and request.accept_mimetypes.accept_html:
                    return redirect(url_for("auth.login", next=request.path))
                abort(401)
            if role() not in roles:
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


def _match(token: str) -> str | None:
    tokens = current_app.config["CONSOLE_TOKENS"]
    for name, expected in tokens.items():
        if hmac.compare_digest(token.encode(), expected.encode()):
            return str(name)
    return None


def console_path(raw: str) -> str:
    """`next` as a path on this console ("" when absent or empty), or UsageError (HTTP 400)."""
    if raw == "":
        return ""
    refused = UsageError("next: not a path on this console (a path such as /team; control characters, backslashes, "
                         "schemes and hosts are refused); nothing was done")
    if len(raw) > NEXT_MAX:
        raise refused
    value = raw
    for _ in range(3):  # decoded until it no longer changes (double-encoded values included)
        value, before = unquote(value, errors="replace"), value  # bad UTF-8: U+FFFD, refused below
        if value == before:
            break
    else:
        raise refused
    for text in (raw, value):
        if not PRINTABLE_ASCII.fullmatch(text) or "\\" in text:
            raise refused
    parts = urlsplit(value)
    if not value.startswith("/") or value.startswith("//") or parts.scheme or parts.netloc:
        raise refused
    return value


@bp.get("/login")
def login() -> Any:
    target = console_path(request.args.get("next", ""))  # refused before the form (and its CSRF token) exist
    return render_template("login.html", token=request.args.get("token", ""), next=target)


@bp.post("/login")
def login_post() -> Any:
    target = console_path(request.form.get("next", ""))  # refused before any session is set or changed
    token = request.form.get("token", "").strip()
    name = request.form.get("name", "").strip()
    who = _match(token) if token else None
    if who is None:
        flash("Error: token: not a console token; use the facilitator or team token printed when the console started",
              "error")
        return render_template("login.html", token="", next=target, name=name), 403
    if who == "facilitator" and not name:
        name = "facilitator"
    if not NAME_RE.match(name):
        flash("Error: name: 1-40 letters, digits, spaces, '.', '_' or '-' (it is recorded as the actor)", "error")
        return render_template("login.html", token=token, next=target, name=name), 400
    session.clear()
    session["role"] = who
    session["name"] = name
    if who == "team":
        session["team_gen"] = current_app.config["TEAM_TOKEN_GENERATION"]
    if not target:
        target = url_for("facilitator.page") if who == "facilitator" else url_for("team.page")
    return redirect(target, code=303)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.post("/facilitator/team-token")
@require("facilitator")
def rotate_team_token() -> Any:
    """A new team token, in place of the old one (refused at login from now on); every team session
    ends. console.json gets it too; the facilitator sees it once, on the page this answers with."""
    with _rotating:
        token = secrets.token_urlsafe(18)
        _save_team_token(current_app.config.get("CONSOLE_INFO"), token)
        current_app.config["CONSOLE_TOKENS"] = {**current_app.config["CONSOLE_TOKENS"], "team": token}
        current_app.config["TEAM_TOKEN_GENERATION"] += 1
    return render_template("team_token.html", token=token, login_url=url_for("auth.login", token=token, _external=True))


def _save_team_token(path: Path | None, token: str) -> None:
    """Replace the team token in this console's console.json (owner-only, like the first one)."""
    if path is None:
        return
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return  # no file (a console in a test), or not readable: nothing to keep in step
    if info.get("pid") != os.getpid():
        return  # another console's file
    info["team_token"] = token
    fresh = path.with_name(path.name + ".new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh)
    os.replace(fresh, path)
