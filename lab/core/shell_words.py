"""A command line read the way a shell reads it: words, pipelines, heredocs (pure; never raises).

    text ──lex──▶ words and operators ──cut at ; && || & ( ) newline──▶ pipelines
                                      ──cut at | |&──▶ Commands (words, stdin, upstream)

    psql -U arcade <<'SQL'              Command(["psql", "-U", "arcade"], stdin="select 1;\\n")
    select 1;
    SQL
    echo "select 1" | psql              Command(["echo", "select 1"]),
                                        Command(["psql"], stdin="select 1\\n", upstream=["echo", "select 1"])

Quotes are removed as the shell removes them (`'...'`, `"..."`, `$'...'`, backslashes); `$(...)`,
backticks and `${...}` are kept as written inside their word; redirections are dropped, except
what feeds standard input (a heredoc's body, a here-string, `< FILE`). Bash history keeps a
heredoc's body on the lines after its command, so a recorded line may carry it. Nothing is
expanded or run. Unclosed quotes and unfinished heredocs take the rest of the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_TEXT = 64 * 1024  # a command line longer than this is read up to here
MAX_UPSTREAM = 100  # words of the earlier commands of a pipeline a command is told about
OPERATORS = ("<<<", "<<-", "&&", "||", ";;", "|&", "&>", ">>", ">&", "<&", ">|", "<<", "|", "&", ";", "<", ">", "(", ")")
SEPARATORS = {";", ";;", "&", "&&", "||", "(", ")", "\n"}
PIPES = {"|", "|&"}
REDIRECTS = {">", ">>", ">&", "<&", "&>", ">|"}
CONTINUED = {"|", "|&", "&&", "||"}  # a newline after these does not end the command


@dataclass(frozen=True)
class Command:
    """One simple command: its words, what the line shows it reads on standard input, and the words
    of the commands piped into it."""

    words: list[str]
    stdin: str | None = None
    stdin_file: bool = False  # `< FILE`: it reads a file the line does not show
    upstream: list[str] = field(default_factory=list)


@dataclass
class _Token:
    op: str | None  # an operator, or None for a word
    text: str = ""
    body: str | None = None  # a heredoc's body (for << and <<-)


def commands(text: str) -> list[Command]:
    """The simple commands of a command line, in the order they appear."""
    return _commands(_lex(text[:MAX_TEXT]))


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pending: list[tuple[_Token, str, bool]] = []  # heredocs whose bodies start after the next newline
    word: list[str] = []
    in_word = False
    i, n = 0, len(text)

    def end_word() -> None:
        nonlocal in_word
        if in_word:
            tokens.append(_Token(None, "".join(word)))
            word.clear()
            in_word = False

    while i < n:
        c = text[i]
        if c in " \t\r":
            end_word()
            i += 1
        elif c == "\n":
            end_word()
            if not (tokens and tokens[-1].op in CONTINUED):
                tokens.append(_Token("\n"))
            i += 1
            for heredoc, delimiter, strip_tabs in pending:
                heredoc.body, i = _heredoc(text, i, delimiter, strip_tabs)
            pending.clear()
        elif c == "#" and not in_word:
            while i < n and text[i] != "\n":
                i += 1
        elif c == "\\":
            if text.startswith("\n", i + 1):
                i += 2  # a continued line
                continue
            word.append(text[i + 1:i + 2])
            in_word = True
            i += 2
        elif c == "'":
            end = text.find("'", i + 1)
            end = n if end < 0 else end
            word.append(text[i + 1:end])
            in_word = True
            i = end + 1
        elif c == '"':
            part, i = _double_quoted(text, i + 1)
            word.append(part)
            in_word = True
        elif c == "$" and text.startswith("'", i + 1):
            part, i = _ansi_c(text, i + 2)
            word.append(part)
            in_word = True
        elif c == "$" and i + 1 < n and text[i + 1] in "({":
            end = _balanced(text, i + 1)
            word.append(text[i:end])
            in_word = True
            i = end
        elif c == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end + 1
            word.append(text[i:end])
            in_word = True
            i = end
        elif c in "|&;<>()":
            if in_word and c in "<>" and "".join(word).isdigit():
                word.clear()  # `2>&1`: the 2 names a file descriptor
                in_word = False
            end_word()
            op = next(o for o in OPERATORS if text.startswith(o, i))
            i += len(op)
            token = _Token(op)
            tokens.append(token)
            if op in ("<<", "<<-"):
                delimiter, i = _delimiter(text, i)
                tokens.append(_Token(None, delimiter))
                if delimiter:
                    pending.append((token, delimiter, op == "<<-"))
        else:
            word.append(c)
            in_word = True
            i += 1
    end_word()
    return tokens


def _double_quoted(text: str, i: int) -> tuple[str, int]:
    """The text of a "..." string starting at i (after the quote), and where it ends."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "\n":
                pass
            elif nxt in '$`"\\':
                out.append(nxt)
            else:
                out.append("\\" + nxt)
            i += 2
        elif c == "$" and i + 1 < n and text[i + 1] in "({":
            end = _balanced(text, i + 1)
            out.append(text[i:end])
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out), n


ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "a": "\a", "e": "\x1b", "0": "\0"}


def _ansi_c(text: str, i: int) -> tuple[str, int]:
    """The text of a $'...' string starting at i (after the quote), and where it ends."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == "'":
            return "".join(out), i + 1
        if c == "\\" and i + 1 < n:
            out.append(ANSI_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out), n


def _balanced(text: str, i: int) -> int:
    """Where the `(...)` or `{...}` opening at i ends (quotes inside respected; the end of the text if never)."""
    closing = {"(": ")", "{": "}"}
    stack = [closing[text[i]]]
    i += 1
    n = len(text)
    while i < n and stack:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == '"':
            _, i = _double_quoted(text, i + 1)
            continue
        if c in closing:
            stack.append(closing[c])
        elif c == stack[-1]:
            stack.pop()
        i += 1
    return min(i, n)


def _delimiter(text: str, i: int) -> tuple[str, int]:
    """A heredoc's delimiter word after `<<` (quotes removed), and where it ends."""
    n = len(text)
    while i < n and text[i] in " \t":
        i += 1
    out: list[str] = []
    while i < n and text[i] not in " \t\r\n|&;<>()":
        c = text[i]
        if c in "'\"":
            end = text.find(c, i + 1)
            end = n if end < 0 else end
            out.append(text[i + 1:end])
            i = end + 1
        elif c == "\\":
            out.append(text[i + 1:i + 2])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out), min(i, n)


def _heredoc(text: str, i: int, delimiter: str, strip_tabs: bool) -> tuple[str, int]:
    """A heredoc's body starting at i, and where the text goes on after its delimiter line."""
    lines: list[str] = []
    n = len(text)
    while i < n:
        end = text.find("\n", i)
        end = n if end < 0 else end
        line = text[i:end]
        i = end + 1
        if strip_tabs:
            line = line.lstrip("\t")
        if line.rstrip("\r") == delimiter:
            return "".join(f"{line}\n" for line in lines), min(i, n)
        lines.append(line)
    return "".join(f"{line}\n" for line in lines), n


@dataclass
class _Stage:
    words: list[str] = field(default_factory=list)
    stdin: str | None = None
    stdin_file: bool = False


def _commands(tokens: list[_Token]) -> list[Command]:
    out: list[Command] = []
    pipeline: list[_Stage] = [_Stage()]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        stage = pipeline[-1]
        nxt = tokens[i + 1].text if i + 1 < len(tokens) and tokens[i + 1].op is None else None
        if token.op is None:
            stage.words.append(token.text)
        elif token.op in SEPARATORS:
            out.extend(_piped(pipeline))
            pipeline = [_Stage()]
        elif token.op in PIPES:
            pipeline.append(_Stage())
        elif token.op in ("<<", "<<-"):
            stage.stdin, stage.stdin_file = token.body, False
            i += 1 if nxt is not None else 0
        elif token.op == "<<<":
            stage.stdin, stage.stdin_file = (None, False) if nxt is None else (nxt + "\n", False)
            i += 1 if nxt is not None else 0
        elif token.op == "<":
            stage.stdin, stage.stdin_file = None, True
            i += 1 if nxt is not None else 0
        elif token.op in REDIRECTS:
            i += 1 if nxt is not None else 0
        i += 1
    out.extend(_piped(pipeline))
    return out


def _piped(pipeline: list[_Stage]) -> list[Command]:
    """The commands of one pipeline, each with what the earlier ones feed it when the line shows it."""
    out: list[Command] = []
    upstream: list[str] = []
    fed: str | None = None  # what the previous stage writes, when the line shows it
    for stage in pipeline:
        if stage.words:
            stdin = stage.stdin if stage.stdin is not None or stage.stdin_file else fed
            out.append(Command(list(stage.words), stdin, stage.stdin_file, upstream[-MAX_UPSTREAM:]))
            upstream.extend(stage.words[:MAX_UPSTREAM])
        fed = _output(stage)
    return out


def _output(stage: _Stage) -> str | None:
    """What `echo`, `printf` or `cat` (of a heredoc) write, as far as the line shows it."""
    if not stage.words:
        return None
    tool, args = stage.words[0].rsplit("/", 1)[-1], stage.words[1:]
    if tool == "echo":
        escapes = False
        while args and args[0] in ("-n", "-e", "-E", "-ne", "-en"):
            escapes = escapes or "e" in args[0]
            args = args[1:]
        text = " ".join(args)
        return (_unescape(text) if escapes else text) + "\n"
    if tool == "printf" and args:
        text = args[0]
        for arg in args[1:]:
            text = text.replace("%s", arg, 1) if "%s" in text else f"{text} {arg}"
        return _unescape(text)
    if tool == "cat" and not args:
        return stage.stdin
    return None


def _unescape(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")
