"""What SQL typed at psql amounts to, statement by statement (pure: tokenized by sqlparse, never run).

    "ALTER SYSTEM SET max_connections = 8000; -- more!
     SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE state = 'idle in transaction' AND state_change < now() - interval '5 min'"
        │ sqlparse: statements, comments dropped, quotes and $$ bodies kept whole
        ▼
    SqlAct("set-db-setting", {"name": "max_connections", "value": "8000"}, scope="system")
    SqlAct("terminate-idle-connections", {"state": "idle in transaction", "older_than_s": 300.0})

The acts and their arguments are the toolbox's (lab/actions/*.py) so a psql session is scored
like `gameday act`; `destructive-sql` (TRUNCATE, DROP, DELETE or UPDATE without WHERE) is an act
only the shell records. Statements that mean nothing to the lab give no act. psql's backslash
commands (`\\x`, `\\c db`, `\\watch 2`) end a statement and are skipped with the rest of their line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlparse import tokens as T
from sqlparse.engine import FilterStack

# sqlparse's lexer and statement splitter without its grouping pass: flat tokens, one list per
# statement. FilterStack carries no annotations; this is the one place this module calls it.
_splitter: Callable[[], Any] = FilterStack

MAX_STATEMENTS = 200
MAX_ARGUMENT = 50  # tokens of a function's first argument looked at
MAX_EVIDENCE = 500
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_.]*$")
DB_STATE = {"pg_stat_activity", "pg_locks", "pg_blocking_pids", "pg_stat_database", "pg_settings", "max_connections",
            "pg_stat_statements", "pg_stat_database_conflicts", "pg_prepared_xacts"}
IDLE_STATES = ("idle", "idle in transaction", "idle in transaction (aborted)")
UNITS = {"us": 1e-6, "usec": 1e-6, "microsecond": 1e-6, "ms": 1e-3, "msec": 1e-3, "millisecond": 1e-3,
         "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hr": 3600, "hour": 3600,
         "d": 86400, "day": 86400, "w": 604800, "week": 604800}
UNIT_WORDS = {unit + plural for unit in UNITS for plural in ("", "s")}  # interval '5' minute
INTERVAL_PART = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)\s*([a-z]*)")
NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?$")
CLOCK = re.compile(r"^([0-9]+):([0-9]{1,2})(?::([0-9]{1,2}(?:\.[0-9]+)?))?$")
MAKE_INTERVAL = {"secs": 1, "mins": 60, "hours": 3600, "days": 86400, "weeks": 604800}
MAX_OLDER_THAN_S = 86400


@dataclass(frozen=True)
class SqlAct:
    """One statement's act: the toolbox action, its arguments, where a setting applies, the statement."""

    action: str
    args: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None  # set-db-setting: system, database, role, session or transaction
    statement: str = ""


@dataclass(frozen=True)
class _Tok:
    kind: str  # word (keyword or name), quoted (a "quoted" name), str, num, op, punct, other
    text: str  # words lower-cased; strings and quoted names without their quotes
    raw: str  # as written
    gap: bool = False  # whitespace (or a comment) before it


def sql_acts(sql: str) -> list[SqlAct]:
    """The acts of each statement in some SQL text, in order (statements that mean nothing left out)."""
    acts = []
    for toks, statement in _statements(sql):
        act = _statement_act(toks)
        if act is not None:
            acts.append(SqlAct(act.action, act.args, act.scope, statement))
    return acts


def _statements(sql: str) -> Iterator[tuple[list[_Tok], str]]:
    for n, stmt in enumerate(_splitter().run(sql)):
        if n >= MAX_STATEMENTS:
            return
        yield from _pieces(stmt.tokens)


def _pieces(tokens: list[Any]) -> Iterator[tuple[list[_Tok], str]]:
    """One statement's significant tokens and its text (two or more when psql backslash commands cut it)."""
    toks: list[_Tok] = []
    raw: list[str] = []
    gap = skipping = False  # whitespace before the next token; the rest of a backslash command's line
    for token in tokens:
        ttype, value = token.ttype, str(token.value)
        if skipping:
            skipping = "\n" not in value
            continue
        if ttype in T.Generic.Command:
            if toks:
                yield toks, _evidence(raw)
            toks, raw, skipping = [], [], True
            continue
        if ttype in T.Comment or ttype in T.Whitespace or ttype in T.Newline or ttype in T.Text.Whitespace:
            raw.append(" ")
            gap = True
            continue
        raw.append(value)
        toks.append(_tok(ttype, value, gap))
        gap = False
    if toks:
        yield toks, _evidence(raw)


def _evidence(raw: list[str]) -> str:
    text = " ".join("".join(raw).split()).rstrip(";").strip()
    return text if len(text) <= MAX_EVIDENCE else text[:MAX_EVIDENCE - 1] + "…"


def _tok(ttype: Any, value: str, gap: bool) -> _Tok:
    if ttype in T.Keyword or ttype in T.Name:
        return _Tok("word", value.lower(), value, gap)
    if ttype in T.Literal.String.Symbol:  # a "Quoted" identifier
        return _Tok("quoted", value[1:-1].replace('""', '"'), value, gap)
    if ttype in T.Literal.String:
        return _Tok("str", _unquote(value), value, gap)
    if ttype in T.Literal.Number:
        return _Tok("num", value, value, gap)
    if ttype in T.Literal and value.startswith("$"):  # $tag$ ... $tag$
        tag = value[:value.find("$", 1) + 1]
        inner = value[len(tag):len(value) - len(tag)] if len(value) >= 2 * len(tag) else value
        return _Tok("str", inner, value, gap)
    if ttype in T.Operator:
        return _Tok("op", value.lower(), value, gap)
    if ttype in T.Punctuation:
        return _Tok("punct", value, value, gap)
    return _Tok("other", value, value, gap)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return value.strip("'")


def _words(toks: list[_Tok]) -> list[str]:
    return [t.text for t in toks]


def _statement_act(toks: list[_Tok]) -> SqlAct | None:
    first = toks[0].text if toks[0].kind == "word" else ""
    if first == "alter" and len(toks) > 2:
        return _alter(toks)
    if first == "set":
        return _session_set(toks)
    if first in ("truncate", "drop", "delete", "update"):
        return _destructive(toks)
    if first == "show":
        return SqlAct("inspect-db")
    if first in ("select", "with", "table", "values"):
        return _query(toks)
    return None


def _setting(toks: list[_Tok], scope: str) -> SqlAct | None:
    """`name = value` / `name TO value` (toks start at the name)."""
    if len(toks) < 3 or toks[0].kind not in ("word", "quoted"):
        return None
    name, i = toks[0].text.lower(), 1
    while i + 1 < len(toks) and toks[i].text == "." and toks[i + 1].kind in ("word", "quoted"):  # custom.setting
        name += "." + toks[i + 1].text.lower()
        i += 2
    if i >= len(toks) or not (toks[i].kind == "op" and toks[i].text == "=" or toks[i].kind == "word" and toks[i].text == "to"):
        return None
    value_toks = [t for t in toks[i + 1:] if not (t.kind == "punct" and t.text == ";")]
    value = _value(value_toks)
    if value is None or not SETTING_NAME.match(name) or len(name) > 63 or not 1 <= len(value) <= 1000:
        return None
    return SqlAct("set-db-setting", {"name": name, "value": value}, scope)


def _value(toks: list[_Tok]) -> str | None:
    """A setting's value as written: a quoted string without its quotes, else the words as typed."""
    if not toks or len(toks) == 1 and toks[0].kind == "word" and toks[0].text == "default":
        return None
    if len(toks) == 1 and toks[0].kind in ("str", "quoted"):
        return toks[0].text
    text = "".join((" " if tok.gap and i else "") + (tok.text if tok.kind == "str" else tok.raw)
                   for i, tok in enumerate(toks))
    return text.strip() or None


def _alter(toks: list[_Tok]) -> SqlAct | None:
    words = _words(toks)
    if words[1] == "system" and words[2] == "set":
        return _setting(toks[3:], "system")
    if words[1] in ("role", "user", "database"):
        scope = "database" if words[1] == "database" else "role"
        for i in range(3, len(toks) - 1):  # ALTER ROLE r [IN DATABASE d] SET ...
            if toks[i].kind == "word" and toks[i].text == "set":
                return _setting(toks[i + 1:], scope)
    return None


def _session_set(toks: list[_Tok]) -> SqlAct | None:
    rest, scope = toks[1:], "session"
    if rest and rest[0].kind == "word" and rest[0].text in ("session", "local"):
        if rest[0].text == "local":
            scope = "transaction"
        rest = rest[1:]
    if not rest or rest[0].kind == "word" and rest[0].text in ("role", "authorization", "transaction", "constraints",
                                                                 "characteristics", "names", "schema"):
        return None
    if len(rest) >= 3 and _words(rest[:2]) == ["time", "zone"]:
        value = _value(rest[2:])
        return SqlAct("set-db-setting", {"name": "timezone", "value": value}, scope) if value else None
    return _setting(rest, scope)


def _destructive(toks: list[_Tok]) -> SqlAct | None:
    words = _words(toks)
    statement = words[0]
    skip = {"table", "only", "if exists", "if", "exists", "from", "database", "schema"}
    if statement == "drop":
        if len(words) < 3 or words[1] not in ("table", "database", "schema"):
            return None
    elif statement in ("delete", "update"):
        if statement == "delete" and (len(words) < 3 or words[1] != "from"):
            return None
        if _top_level_where(toks):
            return None
    target = _target(toks[1:], skip)
    if target is None:
        return None
    return SqlAct("destructive-sql", {"statement": statement, "target": target})


def _top_level_where(toks: list[_Tok]) -> bool:
    depth = 0
    for tok in toks:
        if tok.kind == "punct":
            depth += tok.text == "("
            depth -= tok.text == ")"
        elif depth <= 0 and tok.kind == "word" and tok.text in ("where", "where current of"):
            return True
    return False


def _target(toks: list[_Tok], skip: set[str]) -> str | None:
    """The (possibly schema-qualified) name after the statement's leading keywords."""
    i = 0
    while i < len(toks) and toks[i].kind == "word" and toks[i].text in skip:
        i += 1
    if i >= len(toks) or toks[i].kind not in ("word", "quoted"):
        return None
    name = toks[i].text
    while i + 2 < len(toks) and toks[i + 1].text == "." and toks[i + 2].kind in ("word", "quoted"):
        name += "." + toks[i + 2].text
        i += 2
    return name


def _query(toks: list[_Tok]) -> SqlAct | None:
    for arg in _calls(toks, ("pg_terminate_backend", "pg_cancel_backend")):
        pid = _pid(arg)
        if pid is not None:  # one session, by its pid (kill-query terminates; a cancel is the gentler ask)
            return SqlAct("kill-query", {"pid": pid})
    if _calls(toks, ("pg_terminate_backend",)):
        return _termination(toks)
    if _calls(toks, ("pg_cancel_backend",)):
        return None  # cancelling many sessions' queries: no toolbox act does that
    names = {t.text for t in toks if t.kind in ("word", "quoted", "str")}
    if names & DB_STATE:
        return SqlAct("inspect-db")
    return None


def _calls(toks: list[_Tok], functions: tuple[str, ...]) -> list[list[_Tok]]:
    """The first arguments of the calls to these functions."""
    found = []
    for i, tok in enumerate(toks[:-1]):
        if tok.kind == "word" and tok.text in functions and toks[i + 1].text == "(":
            depth, arg = 0, []
            for inner in toks[i + 2:i + 2 + MAX_ARGUMENT]:
                if inner.text == "(":
                    depth += 1
                elif inner.text == ")" and depth == 0 or inner.text == "," and depth == 0:
                    break
                elif inner.text == ")":
                    depth -= 1
                arg.append(inner)
            found.append(arg)
    return found


def _termination(toks: list[_Tok]) -> SqlAct | None:
    """`pg_terminate_backend(pid) FROM ... WHERE ...`: which sessions the WHERE clause picks."""
    words = [t.text for t in toks if t.kind in ("word", "quoted")]
    where = _where(toks)
    if "pg_blocking_pids" in words:
        return SqlAct("terminate-blocking")
    where_words = {t.text for t in where if t.kind in ("word", "quoted")}
    where_strings = {t.text.lower() for t in where if t.kind == "str"}
    if where_words & {"wait_event_type", "wait_event"} and "lock" in where_strings or "granted" in where_words:
        return SqlAct("terminate-blocking", {"waiting_only": True})
    pid = _pid_filter(where)
    if pid is not None:
        return SqlAct("kill-query", {"pid": pid})
    state = _idle_state(where)
    if state is None:
        return None
    args: dict[str, Any] = {"state": state}
    older = _older_than(where)
    if older is not None:
        args["older_than_s"] = older
    return SqlAct("terminate-idle-connections", args)


def _pid(arg: list[_Tok]) -> int | None:
    if len(arg) == 1 and arg[0].kind == "num" and arg[0].text.isascii() and arg[0].text.isdigit() \
            and 0 < int(arg[0].text) < 2**31:
        return int(arg[0].text)
    return None


def _where(toks: list[_Tok]) -> list[_Tok]:
    for i, tok in enumerate(toks):
        if tok.kind == "word" and tok.text == "where":
            return toks[i + 1:]
    return []


def _pid_filter(where: list[_Tok]) -> int | None:
    """`WHERE pid = 1234` (alone: one session)."""
    if len(where) >= 3 and where[0].text in ("pid", "procpid") and where[1].text == "=":
        rest = [t for t in where[3:] if t.text != ";"]
        return _pid([where[2]]) if not rest else None
    return None


def _idle_state(where: list[_Tok]) -> str | None:
    """Which idle sessions a WHERE clause picks by `state` (None: it does not pick by idleness)."""
    picked: set[str] = set()
    for i, tok in enumerate(where):
        if not (tok.kind == "word" and tok.text == "state"):
            continue
        negated = False
        for nxt in where[i + 1:i + 12]:
            if nxt.kind == "op" and nxt.text in ("<>", "!=") or nxt.kind == "word" and nxt.text in ("not", "not in"):
                negated = True
            elif nxt.kind == "str":
                value = nxt.text.lower()
                if negated and value == "active":
                    picked.update(("idle", "idle in transaction"))
                elif not negated and value.startswith("idle") and value.endswith("%"):
                    picked.update(("idle", "idle in transaction"))
                elif not negated and value in IDLE_STATES:
                    picked.add("idle" if value == "idle" else "idle in transaction")
            elif nxt.kind == "word" and nxt.text in ("and", "or"):
                break
    if not picked:
        return None
    return picked.pop() if len(picked) == 1 else "any"


def _older_than(where: list[_Tok]) -> float | None:
    """How long the sessions have been idle, from the first interval in a WHERE clause."""
    for i, tok in enumerate(where):
        seconds = None
        if tok.kind == "word" and tok.text == "interval" and i + 1 < len(where) and where[i + 1].kind == "str":
            unit = where[i + 2].text if i + 2 < len(where) and where[i + 2].kind == "word" else ""
            seconds = _interval(where[i + 1].text + (" " + unit if unit in UNIT_WORDS else ""))
        elif tok.kind == "str" and i + 2 < len(where) and where[i + 1].text == "::" and where[i + 2].text == "interval":
            seconds = _interval(tok.text)
        elif tok.kind == "word" and tok.text == "make_interval":
            seconds = _make_interval(where[i + 1:])
        if seconds is not None:
            return seconds if 0 <= seconds <= MAX_OLDER_THAN_S else None
    return None


def _interval(text: str) -> float | None:
    """Seconds in a PostgreSQL interval literal: '30 seconds', '5 min', '1h 30m', '00:05:00'."""
    text = text.strip().lower()
    clock = CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return float(int(hours) * 3600 + int(minutes) * 60 + float(seconds or 0))
    total, matched = 0.0, False
    for number, unit in INTERVAL_PART.findall(text):
        unit = unit or "s"
        scale = UNITS.get(unit) or UNITS.get(unit.rstrip("s"))
        if scale is None:
            return None
        total += float(number) * scale
        matched = True
    return total if matched else None


def _make_interval(toks: list[_Tok]) -> float | None:
    """`make_interval(secs => 30)`, `make_interval(mins => 5)`."""
    total, matched = 0.0, False
    for i, tok in enumerate(toks[:40]):
        if tok.text == ")":
            break
        if tok.kind == "word" and tok.text in MAKE_INTERVAL and i + 2 < len(toks) and toks[i + 1].text == "=>" \
                and NUMBER.match(toks[i + 2].text):
            total += float(toks[i + 2].text) * MAKE_INTERVAL[tok.text]
            matched = True
    return total if matched else None
