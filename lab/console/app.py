"""The console's Flask app: `create_app(config)`, blueprints, CSRF on every form post, and a strict
content security policy (scripts and styles only from the console itself)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from lab.console.info import info_path
from lab.core.safe_input import InputInvalid, Limits, load_form
from lab.core import safe_text
from lab.console.state import EXTENSION, Conflict, ConsoleState
from lab.errors import LabError, UsageError

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


@dataclass
class ConsoleConfig:
    """One console: the stack it watches, where runs live, and its two tokens."""

    stack: str
    root: Path
    scenario_dir: Path
    facilitator_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))
    team_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))


def _visible(value: Any) -> Any:
    """What every `{{ ... }}` of the console prints: control characters made visible (safe_text.html);
    autoescape still escapes <, > and & afterwards, and `|safe` fragments stay markup."""
    if isinstance(value, Markup):
        return Markup(safe_text.html(value))
    return safe_text.html(value) if isinstance(value, str) else value


def create_app(config: ConsoleConfig) -> Flask:
    from lab.console import auth, facilitator, history, panels, stream, team

    app = Flask(__name__)
    app.jinja_env.finalize = _visible  # before the first template compiles: every {{ }} of every page
    app.jinja_env.globals.update(panels.template_helpers())
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # sessions end when the console stops
        SESSION_COOKIE_NAME=f"gameday_console_{config.stack}",  # consoles of other stacks on this host keep theirs
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        WTF_CSRF_TIME_LIMIT=None,  # a drill page stays open for hours; the token lives as long as the session
        CONSOLE_TOKENS={"facilitator": config.facilitator_token, "team": config.team_token},
        TEAM_TOKEN_GENERATION=0,  # a rotation of the team token ends the team sessions of older ones
        CONSOLE_INFO=info_path(config.root, config.stack),
        MAX_CONTENT_LENGTH=64 * 1024,
    )
    app.extensions[EXTENSION] = ConsoleState(config.stack, config.root, config.scenario_dir)

    @app.before_request
    def strict_form() -> Any:
        """A form body must be UTF-8 once decoded (Werkzeug would keep bad escapes as text);
        before the CSRF check, which reads the form from the body cached here."""
        if request.mimetype != "application/x-www-form-urlencoded":
            return None
        try:
            load_form(request.get_data(cache=True), Limits(max_bytes=int(app.config["MAX_CONTENT_LENGTH"])))
        except InputInvalid as exc:
            return _error(400, f"Error: {request.path}: {exc}; nothing was done.")
        return None

    CSRFProtect(app)
    for blueprint in (auth.bp, team.bp, facilitator.bp, history.bp, stream.bp):
        app.register_blueprint(blueprint)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError) -> Any:
        return _error(400, f"Error: refused: {exc.description} Reload the page and send it again; nothing was done.")

    @app.errorhandler(Conflict)
    def conflict(exc: Conflict) -> Any:
        return _error(409, f"Error: {exc}")

    @app.errorhandler(UsageError)
    def usage(exc: UsageError) -> Any:
        return _error(400, f"Error: {exc}")

    @app.errorhandler(LabError)
    def lab_error(exc: LabError) -> Any:
        return _error(500, f"Error: {exc}")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        limit = int(app.config["MAX_CONTENT_LENGTH"]) // 1024
        messages = {401: "Error: log in with the facilitator or team token first.",
                    403: "Error: the facilitator token is needed for this; nothing was done.",
                    413: f"Error: the request is too large: the console takes at most {limit} KB; nothing was done."}
        return _error(exc.code or 500, messages.get(exc.code or 0, f"Error: {exc.description}"))

    @app.get("/")
    def index() -> Any:
        from flask import redirect, session, url_for

        target = {"facilitator": "facilitator.page", "team": "team.page"}.get(session.get("role") or "", "auth.login")
        return redirect(url_for(target))

    return app


def _error(code: int, message: str) -> Any:
    if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
        return {"error": message}, code
    return render_template("error.html", message=message, code=code), code
