"""What a command typed in the recorded shell means to the lab (pure: no clock, file or socket).

    classify("sudo -u postgres psql -c 'SELECT pg_terminate_backend(4242)'")
        -> Classified("kill-query", {"pid": 4242}, evidence="SELECT pg_terminate_backend(4242)")
    classify("docker compose up -d --scale web=4")   -> Classified("scale-web", {"workers": 4})
    classify("ls -l")                                 -> None: kept as a plain command

    line ──shell_words──▶ simple commands ──unwrap (sudo, su -c, docker exec, kubectl exec, ssh, ...)──▶
         psql / pgcli ──SQL from -c, heredoc, here-string, `echo ... |`──▶ shell_sql: one act a statement
         docker, kubectl, systemctl, pg_ctl, kill, curl, ping, tail ...  ──▶ one act a command
                                                     ▼
                         the first change among them, else the first look

Commands the lab recognises become the toolbox actions they amount to, with the toolbox's
arguments (lab/actions/*.py), so a responder who uses their own tools is scored like one who
uses `gameday act` or the console. Two acts exist only here (SHELL_ONLY_ACTS): `destructive-sql`
and `kill-worker`; nobody is offered them, runbooks may name them. Nothing is run or expanded;
any text gives an answer (only its first 64 KB are read).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.core.shell_sql import sql_acts
from lab.core.shell_words import Command, commands

SHELL_ONLY_ACTS = ("destructive-sql", "kill-worker")
LOOKS = ("inspect-db", "inspect-web", "check-network", "status", "logs")  # acts that change nothing
SERVICES = ("db", "web", "proxy", "loadgen")  # what restart and logs accept
# Words that name a service in `docker restart NAME`, `systemctl restart NAME`, `deploy/NAME`, ...
SERVICE_WORDS = {"db": ("db", "postgres", "postgresql", "database", "pg"),
                 "web": ("web", "arcade", "gunicorn", "app"),
                 "proxy": ("proxy", "toxiproxy"),
                 "loadgen": ("loadgen",)}
NETWORK_TOOLS = {"ping", "traceroute", "tracepath", "mtr", "nc", "ncat", "netcat", "telnet", "ss", "netstat", "dig",
                 "nslookup", "tcpdump", "toxiproxy-cli", "host", "nmap"}
HTTP_TOOLS = {"curl", "wget", "http", "https", "ab", "hey", "xh"}
STATUS_TOOLS = {"top", "htop", "ps", "pgrep", "uptime", "vmstat", "free", "pg_isready", "iostat", "mpstat"}
LOG_READERS = {"tail", "less", "more", "cat", "head", "grep", "zcat", "zgrep", "journalctl", "egrep", "rg"}
PSQL = {"psql", "pgcli"}
HISTORY_NUMBER = re.compile(r"^\s*\d+\*?\s+")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
MAX_DEPTH = 6  # su -c "bash -c '...'" inside docker exec inside ssh ...
MAX_EVIDENCE = 500


@dataclass(frozen=True)
class Classified:
    """The toolbox action a command line amounts to, with the toolbox's arguments.

    `scope` says where a set-db-setting applies (system, database, role, session, transaction);
    `evidence` is the SQL statement or the command's words that decided it (not compared)."""

    action: str
    args: dict[str, Any] = field(default_factory=dict)
    scope: str | None = None
    evidence: str = field(default="", compare=False)


def strip_history_number(line: str) -> str:
    """`history 1` prints '  42  psql ...'; keep the command."""
    return HISTORY_NUMBER.sub("", line, count=1).rstrip("\n")


def classify(line: str) -> Classified | None:
    """The act a command line amounts to: its first change, else its first look, else None."""
    found = _acts(line, None, 0)
    changes = [act for act in found if act.action not in LOOKS]
    first = changes or found
    return first[0] if first else None


def _acts(text: str, stdin: str | None, depth: int) -> list[Classified]:
    if depth > MAX_DEPTH:
        return []
    found = []
    for cmd in commands(text):
        if stdin is not None and cmd.stdin is None and not cmd.stdin_file:
            cmd = Command(cmd.words, stdin, False, cmd.upstream)  # `su -c "psql" <<EOF` feeds the inner psql
        found.extend(_command(cmd, depth))
    return found


def _command(cmd: Command, depth: int) -> list[Classified]:
    words = _drop_assignments(cmd.words)
    if not words or depth > MAX_DEPTH:
        return []
    tool, rest = words[0].rsplit("/", 1)[-1], words[1:]
    rule = RULES.get(tool)
    if rule is not None:
        return rule(rest, cmd, depth)
    if words[0].startswith(("/etc/init.d/", "/etc/rc.d/")):  # /etc/init.d/postgresql restart
        return _init_script(tool, rest)
    return _one(_simple(tool, rest), words)


def _one(found: Classified | None, words: list[str]) -> list[Classified]:
    if found is None:
        return []
    evidence = found.evidence or " ".join(words)
    evidence = evidence if len(evidence) <= MAX_EVIDENCE else evidence[:MAX_EVIDENCE - 1] + "…"
    return [Classified(found.action, found.args, found.scope, evidence)]


def _inner(words: list[str], cmd: Command, depth: int) -> list[Classified]:
    """The command a wrapper runs, given as words (sudo psql ..., docker exec db psql ...)."""
    return _command(Command(words, cmd.stdin, cmd.stdin_file, cmd.upstream), depth + 1)


def _drop_assignments(words: list[str]) -> list[str]:
    i = 0
    while i < len(words) and ASSIGNMENT.match(words[i]):
        i += 1
    return words[i:]


# --- options ------------------------------------------------------------------------------------

def _getopt(words: list[str], short: str, long: frozenset[str] | set[str],
            permute: bool = False) -> tuple[list[tuple[str, str]], list[str]]:
    """(options with their values, operands) of a command's words, getopt-style.

    `short` holds the letters that take a value (-c VALUE, -cVALUE, -Atc VALUE), `long` the long
    options that do (--command VALUE, --command=VALUE). Without `permute` the first operand ends
    the options (the command a wrapper runs starts there)."""
    opts: list[tuple[str, str]] = []
    operands: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w == "--":
            operands.extend(words[i + 1:])
            break
        if w.startswith("--"):
            name, eq, value = w[2:].partition("=")
            if not eq and name in long and i + 1 < len(words):
                value = words[i + 1]
                i += 1
            opts.append(("--" + name, value))
        elif w.startswith("-") and len(w) > 1:
            for j, letter in enumerate(w[1:], 1):
                if letter in short:
                    value = w[j + 1:]
                    if not value and i + 1 < len(words):
                        value = words[i + 1]
                        i += 1
                    opts.append(("-" + letter, value))
                    break
                opts.append(("-" + letter, ""))
        elif permute:
            operands.append(w)
        else:
            operands.extend(words[i:])
            break
        i += 1
    return opts, operands


def _opt(opts: list[tuple[str, str]], *names: str) -> str | None:
    values = [value for name, value in opts if name in names]
    return values[-1] if values else None


def _number(text: str | None, low: int, high: int) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


# --- services -----------------------------------------------------------------------------------

def _parts(words: list[str]) -> list[str]:
    return [part for w in words for part in re.split(r"[^a-z0-9@]+", w.lower()) if part]


def _service(words: list[str]) -> str | None:
    """The lab service some words name (gameday-db-1, deploy/web, postgresql@15-main.service, ...)."""
    parts = _parts(words)
    for service, names in SERVICE_WORDS.items():
        if any(part in names or part.split("@", 1)[0] in names for part in parts):
            return service
    return None


def _restart(words: list[str]) -> Classified | None:
    service = _service(words)
    return Classified("restart", {"service": service}) if service in SERVICES else None


def _logs(words: list[str], lines: str | None) -> Classified | None:
    service = _service(words)
    if service is None:
        return None
    count = _number(lines, 1, 1000)
    return Classified("logs", {"service": service, **({"lines": count} if count else {})})


def _scale(service_words: list[str], count: str | None) -> Classified | None:
    workers = _number(count, 1, 64)
    if workers is None or _service(service_words) != "web":
        return None
    return Classified("scale-web", {"workers": workers})


# --- SQL clients --------------------------------------------------------------------------------

PSQL_SHORT = "cdfFhLoPpRTUv"
PSQL_LONG = {"command", "dbname", "file", "field-separator", "host", "log-file", "output", "port", "pset",
             "record-separator", "table-attr", "username", "set", "variable"}


def _psql(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """psql's SQL: each -c / --command, and standard input when the line shows it (-f -, heredoc, pipe)."""
    opts, _ = _getopt(rest, PSQL_SHORT, PSQL_LONG, permute=True)
    sql = [value for name, value in opts if name in ("-c", "--command")]
    files = [value for name, value in opts if name in ("-f", "--file")]
    if cmd.stdin is not None and ("-" in files or not sql and not files):
        sql.append(cmd.stdin)
    found = []
    for text in sql:
        for act in sql_acts(text):
            found.append(Classified(act.action, act.args, act.scope, act.statement))
    return found


# --- wrappers: the command they run -------------------------------------------------------------

def _sudo(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    _, operands = _getopt(rest, "ugpCDrtUTh", {"user", "group", "prompt", "close-from", "chdir", "role", "type",
                                               "other-user", "command-timeout", "host"})
    return _inner(_drop_assignments(operands), cmd, depth)


def _command_string(rest: list[str]) -> str | None:
    """The string of `-c STRING` (also -lc, --command=STRING) among a command's words."""
    for i, w in enumerate(rest):
        if w.startswith("--command=") or w.startswith("--session-command="):
            return w.split("=", 1)[1]
        if w in ("--command", "--session-command") and i + 1 < len(rest):
            return rest[i + 1]
        if re.fullmatch(r"-[a-zA-Z]*c", w) and i + 1 < len(rest):
            return rest[i + 1]
    return None


def _runuser(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """runuser -u postgres -- psql ..., or su's form (runuser -l postgres -c "...")."""
    if "-u" in rest or "--user" in rest:
        _, operands = _getopt(rest, "ugGsw", {"user", "group", "supp-group", "shell", "whitelist-environment"})
        return _inner(operands, cmd, depth)
    return _su(rest, cmd, depth)


def _su(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """su postgres -c "psql ...", bash -c "...", bash <<EOF ... EOF."""
    string = _command_string(rest)
    if string is not None:
        return _acts(string, cmd.stdin, depth + 1)
    if not rest and cmd.stdin is not None:  # bash <<EOF: the script is the heredoc
        return _acts(cmd.stdin, None, depth + 1)
    return []


Rule = Callable[[list[str], Command, int], list[Classified]]  # (words after the tool, the command, depth)


def _prefix(values: str, long: set[str] | None = None, leading: int = 0) -> Rule:
    """A wrapper that takes some options (and `leading` operands, e.g. timeout's duration) then a command."""
    def rule(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
        _, operands = _getopt(rest, values, long or set())
        return _inner(_drop_assignments(operands[leading:]), cmd, depth)
    return rule


def _env(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    opts, operands = _getopt(rest, "uCS", {"unset", "chdir", "split-string"})
    split = _opt(opts, "-S", "--split-string")
    if split is not None:
        return _acts(" ".join([split, *operands]), cmd.stdin, depth + 1)
    return _inner(_drop_assignments(operands), cmd, depth)


def _watch(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    _, operands = _getopt(rest, "nq", {"interval", "equexit"})
    return _acts(" ".join(operands), None, depth + 1)  # watch hands its words to sh -c, joined


def _ssh(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    _, operands = _getopt(rest, "BbcDEeFIiJLlmOoPpQRSWw", set())
    return _acts(" ".join(operands[1:]), cmd.stdin, depth + 1) if len(operands) > 1 else []


# --- containers and services --------------------------------------------------------------------

EXEC_SHORT = "euw"
EXEC_LONG = {"env", "env-file", "user", "workdir", "detach-keys", "index"}


def _docker(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    _, operands = _getopt(rest, "Hcl", {"host", "context", "config", "log-level", "tlscacert", "tlscert", "tlskey"})
    if not operands:
        return []
    sub, args = operands[0], operands[1:]
    if sub == "container" and args:
        sub, args = args[0], args[1:]
    if sub == "compose":
        return _compose(args, cmd, depth)
    if sub == "exec":
        _, target = _getopt(args, EXEC_SHORT, EXEC_LONG)
        return _inner(target[1:], cmd, depth) if len(target) > 1 else []
    if sub == "service" and args:
        return _one(_swarm_service(args[0], args[1:]), ["docker", *operands])
    return _one(_docker_verb(sub, args), ["docker", *operands])


def _docker_verb(sub: str, args: list[str]) -> Classified | None:
    if sub == "restart":
        _, names = _getopt(args, "ts", {"time", "timeout", "signal"}, permute=True)
        return _restart(names)
    if sub == "logs":
        opts, names = _getopt(args, "n", {"tail", "since", "until"}, permute=True)
        return _logs(names, _opt(opts, "-n", "--tail"))
    if sub in ("ps", "stats", "top", "ls"):
        return Classified("status")
    return None


def _swarm_service(verb: str, args: list[str]) -> Classified | None:
    if verb == "scale":
        for arg in args:
            name, _, count = arg.partition("=")
            found = _scale([name], count)
            if found:
                return found
        return None
    if verb == "update" and "--force" in args:
        _, names = _getopt(args, "", {"image", "replicas", "env-add", "label-add", "update-parallelism"}, permute=True)
        return _restart(names)
    if verb == "logs":
        opts, names = _getopt(args, "n", {"tail", "since"}, permute=True)
        return _logs(names, _opt(opts, "-n", "--tail"))
    if verb in ("ps", "ls"):
        return Classified("status")
    return None


COMPOSE_LONG = {"file", "project-name", "profile", "env-file", "project-directory", "ansi", "progress", "parallel"}


def _compose(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    _, operands = _getopt(rest, "fp", COMPOSE_LONG)
    if not operands:
        return []
    sub, args = operands[0], operands[1:]
    if sub in ("exec", "run"):
        short, long = ("euw", EXEC_LONG) if sub == "exec" else ("euwvpl", {*EXEC_LONG, "name", "entrypoint", "volume",
                                                                               "publish", "label", "cap-add"})
        _, target = _getopt(args, short, long)
        return _inner(target[1:], cmd, depth) if len(target) > 1 else []
    words = ["docker", "compose", *operands]
    if sub == "restart":
        _, names = _getopt(args, "t", {"timeout"}, permute=True)
        return _one(_restart(names), words)
    if sub == "up":
        opts, names = _getopt(args, "t", {"timeout", "scale", "attach", "no-attach", "exit-code-from", "pull",
                                          "wait-timeout"}, permute=True)
        for name, value in opts:
            if name == "--scale":
                service, _, count = value.partition("=")
                found = _scale([service], count)
                if found:
                    return _one(found, words)
        if ("--force-recreate", "") in opts:
            return _one(_restart(names), words)
        return []
    if sub == "scale":
        for arg in args:
            service, _, count = arg.partition("=")
            found = _scale([service], count)
            if found:
                return _one(found, words)
        return []
    if sub == "logs":
        opts, names = _getopt(args, "n", {"tail", "since", "until", "index"}, permute=True)
        return _one(_logs(names, _opt(opts, "-n", "--tail")), words)
    if sub in ("ps", "top", "stats"):
        return _one(Classified("status"), words)
    return []


KUBECTL_SHORT = "nclo"  # not -f/-p: follow and previous for `kubectl logs`
KUBECTL_LONG = {"namespace", "context", "kubeconfig", "container", "filename", "selector", "output", "replicas",
                "tail", "since", "server", "cluster", "user", "token", "timeout", "field-selector", "pod-running-timeout"}


def _kubectl(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """kubectl's flags go anywhere before `--`; after it comes the command `exec` runs."""
    cut = rest.index("--") if "--" in rest else len(rest)
    opts, operands = _getopt(rest[:cut], KUBECTL_SHORT, KUBECTL_LONG, permute=True)
    if not operands:
        return []
    verb, args = operands[0], operands[1:]
    words = ["kubectl", *rest]
    if verb == "exec" and args:
        if cut < len(rest):
            return _inner(rest[cut + 1:], cmd, depth)
        _, target = _getopt(rest[rest.index("exec") + 1:], KUBECTL_SHORT, KUBECTL_LONG)  # the old form: no --
        return _inner(target[1:], cmd, depth)
    if verb == "rollout" and args[:1] == ["restart"]:
        return _one(_restart(args[1:]), words)
    if verb == "scale":
        return _one(_scale(args, _opt(opts, "--replicas")), words)
    if verb == "logs":
        return _one(_logs(args, _opt(opts, "--tail")), words)
    if verb in ("get", "top", "describe"):
        return _one(Classified("status"), words)
    return []


def _systemctl(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    opts, operands = _getopt(rest, "HMptnos", {"host", "machine", "property", "type", "lines", "output", "signal",
                                               "state"}, permute=True)
    if not operands:
        return []
    return _one(_unit_verb(operands[0], operands[1:]), ["systemctl", *rest])


def _service_cmd(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    if len(rest) < 2:
        return []
    return _one(_unit_verb(rest[1], rest[:1]), ["service", *rest])


def _init_script(name: str, rest: list[str]) -> list[Classified]:
    return _one(_unit_verb(rest[0], [name]), [name, *rest]) if rest else []


def _unit_verb(verb: str, units: list[str]) -> Classified | None:
    if verb in ("restart", "try-restart", "reload-or-restart", "try-reload-or-restart", "condrestart", "force-reload"):
        return _restart(units)
    if verb == "reload" and _service(units) == "web":  # gunicorn reloads its workers on HUP
        return Classified("restart", {"service": "web"})
    if verb == "status":
        return Classified("status")
    return None


def _pg_ctl(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """pg_ctl -D DIR restart, pg_ctlcluster 15 main restart."""
    return _one(Classified("restart", {"service": "db"}) if "restart" in rest else None, ["pg_ctl", *rest])


# --- signals to processes -----------------------------------------------------------------------

SIGNALS = {"1": "HUP", "2": "INT", "3": "QUIT", "9": "KILL", "15": "TERM", "10": "USR1", "12": "USR2",
           "18": "CONT", "19": "STOP", "21": "TTIN", "22": "TTOU", "28": "WINCH"}
SIGNAL_NAMES = {"HUP", "INT", "QUIT", "KILL", "TERM", "USR1", "USR2", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "WINCH",
                "ABRT", "ALRM"}


def _signal_name(text: str) -> str | None:
    name = text.upper().removeprefix("SIG")
    if name in SIGNAL_NAMES:
        return name
    return SIGNALS.get(text)


def _kill(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """kill/pkill/killall aimed at Arcade's gunicorn: HUP reloads it, most other signals end workers."""
    signal, targets, i = "TERM", [], 0
    while i < len(rest):
        w = rest[i]
        if w in ("-s", "--signal", "-n") and i + 1 < len(rest) and _signal_name(rest[i + 1]):
            signal = _signal_name(rest[i + 1]) or signal
            i += 1
        elif w.startswith("--signal="):
            signal = _signal_name(w.split("=", 1)[1]) or signal
        elif w in ("-l", "-L", "--list", "--table"):
            return []
        elif w.startswith("-") and _signal_name(w[1:]) is not None:
            signal = _signal_name(w[1:]) or signal
        elif w in ("-u", "-U", "-g", "-G", "-P", "-t", "-o", "-y"):  # pkill/killall options with a value
            i += 1
        elif not w.startswith("-"):
            targets.append(w)
        i += 1
    aimed = _parts(targets + cmd.upstream)
    if not ({"gunicorn", "web"} & set(aimed)):  # not "arcade": Arcade's database sessions are named so too
        return []
    words = ["kill", *rest]
    if signal == "HUP":
        return _one(Classified("restart", {"service": "web"}), words)
    if signal in ("TTIN", "TTOU", "USR1", "USR2", "CONT", "STOP", "TSTP"):
        return []  # one worker more or fewer, log reopening, pausing: nothing the toolbox names
    return _one(Classified("kill-worker"), words)


def _xargs(rest: list[str], cmd: Command, depth: int) -> list[Classified]:
    """`pgrep gunicorn | xargs kill`: the command xargs runs gets the piped words as its targets."""
    _, operands = _getopt(rest, "IinPLdEsa", {"max-args", "max-procs", "max-lines", "delimiter", "arg-file",
                                             "replace", "eof"})
    return _inner(operands, cmd, depth)


# --- everything else: one look at the tool ------------------------------------------------------

def _simple(tool: str, rest: list[str]) -> Classified | None:
    if tool == "gameday":
        return None  # the lab's own commands record themselves
    if tool in HTTP_TOOLS:
        return Classified("inspect-web")
    if tool in NETWORK_TOOLS:
        return Classified("check-network")
    if tool in STATUS_TOOLS:
        return Classified("status")
    if tool == "journalctl":
        opts, _ = _getopt(rest, "unpS", {"unit", "lines", "priority", "since", "until"}, permute=True)
        unit = _opt(opts, "-u", "--unit")
        return _logs([unit], _opt(opts, "-n", "--lines")) if unit else None
    if tool in LOG_READERS and any("log" in w for w in rest):
        return _logs([w for w in rest if not w.startswith("-")], _lines(tool, rest))
    return None


def _lines(tool: str, rest: list[str]) -> str | None:
    """tail/head -n 50, -n50, -50, --lines=50."""
    if tool not in ("tail", "head"):
        return None
    opts, _ = _getopt([w for w in rest if not re.fullmatch(r"-\d+", w)], "nc", {"lines", "bytes"}, permute=True)
    dashed = [w[1:] for w in rest if re.fullmatch(r"-\d+", w)]
    value = _opt(opts, "-n", "--lines") or (dashed[-1] if dashed else None)
    return value.lstrip("+") if value else None


RULES: dict[str, Rule] = {
    **{tool: _psql for tool in PSQL},
    "sudo": _sudo,
    "doas": _prefix("uC"),
    "su": _su,
    "runuser": _runuser,
    **{shell: _su for shell in ("bash", "sh", "zsh", "dash", "ksh")},
    "env": _env,
    **{tool: _prefix("") for tool in ("time", "nohup", "command", "builtin", "noglob", "exec")},
    "nice": _prefix("n", {"adjustment"}),
    "ionice": _prefix("cnp", {"class", "classdata", "pid"}),
    "stdbuf": _prefix("ioe", {"input", "output", "error"}),
    "timeout": _prefix("sk", {"signal", "kill-after"}, leading=1),
    "watch": _watch,
    "xargs": _xargs,
    "ssh": _ssh,
    "docker": _docker,
    "podman": _docker,
    "docker-compose": _compose,
    "podman-compose": _compose,
    "kubectl": _kubectl,
    "oc": _kubectl,
    "systemctl": _systemctl,
    "service": _service_cmd,
    "pg_ctl": _pg_ctl,
    "pg_ctlcluster": _pg_ctl,
    "kill": _kill,
    "pkill": _kill,
    "killall": _kill,
}
