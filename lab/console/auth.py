"""Who is at the console: the facilitator or a team member, by the token printed at start.

A session (a signed cookie, key new at every start) keeps the role and the person's name; the
name is the actor of every team event. Facilitator-only views refuse a team session with 403
before doing anything.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$")

bp = Blueprint("auth", __name__)


def role() -> str | None:
    return session.get("role")


def actor() -> str:
    return str(session.get("name") or "")


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Refuse (login page for a page, 401/403 for anything else) unless the session has a role."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if role() is None:
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


@bp.get("/login")
def login() -> Any:
    return render_template("login.html", token=request.args.get("token", ""), next=request.args.get("next", ""))


@bp.post("/login")
def login_post() -> Any:
    token = request.form.get("token", "").strip()
    name = request.form.get("name", "").strip()
    who = _match(token) if token else None
    if who is None:
        flash("Error: token: not a console token; use the facilitator or team token printed when the console started",
              "error")
        return render_template("login.html", token="", next=request.form.get("next", ""), name=name), 403
    if who == "facilitator" and not name:
        name = "facilitator"
    if not NAME_RE.match(name):
        flash("Error: name: 1-40 letters, digits, spaces, '.', '_' or '-' (it is recorded as the actor)", "error")
        return render_template("login.html", token=token, next=request.form.get("next", ""), name=name), 400
    session.clear()
    session["role"] = who
    session["name"] = name
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("facilitator.page") if who == "facilitator" else url_for("team.page")
    return redirect(target, code=303)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("auth.login"), code=303)
