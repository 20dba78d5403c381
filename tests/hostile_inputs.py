"""The bad-input corpus, built here in code for each test run (no fixture files to tune).

Each case is (name, bytes, what the one-line error must say). `yaml_cases` are documents a
YAML reader gets (scenario, runbook block, original path, --config); `json_cases` are what a
JSON reader gets (proxy --config, API bodies). `wrap` puts a payload where a reader looks for
it (a runbook's front matter), and `whole` says whether the case is about the whole file's
bytes (size, encoding) rather than the document.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    says: str  # a part of the one-line error every reader gives
    whole: bool = False  # about the file's bytes, not its document


def alias_bomb(levels: int = 9) -> bytes:
    """A 'billion laughs': each level is nine aliases of the one before (9**9 leaves from ~700 bytes)."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def yaml_cases() -> list[Case]:
    return [
        Case("latin-1", "id: café-crème\ntitle: Café\n".encode("latin-1"), "not UTF-8: byte 0xe9 at offset 7", whole=True),
        Case("binary", bytes(range(256)) * 64, "not UTF-8: byte 0x80 at offset 128", whole=True),
        Case("huge", b"story: |\n" + b"  all work and no play\n" * (MIB // 20), "larger than the limit of 1 MiB", whole=True),
        Case("alias-bomb", alias_bomb(), "aliases (*l0) are not allowed"),
        Case("deep-flow-list", b"[" * 10_000 + b"]" * 10_000, "nested deeper than 64 levels"),
        Case("deep-flow-map", b"{a: " * 10_000 + b"1" + b"}" * 10_000, "nested deeper than 64 levels"),
        Case("deep-block", "".join(f"{'  ' * i}k{i}:\n" for i in range(200)).encode() + b"  " * 200 + b"x: 1\n",
             "nested deeper than 64 levels"),
        Case("duplicate-key", b"id: one\ntitle: a title\nid: two\n", "line 3: duplicate key 'id'"),
        Case("python-tag", b"id: !!python/object/apply:os.system ['touch /tmp/pwned-by-gameday']\n",
             "tag !!python/object/apply:os.system is not allowed"),
        Case("python-name", b"!!python/name:os.system\n", "tag !!python/name:os.system is not allowed"),
        Case("nul-byte", b"id: a\x00b\n", "NUL byte at offset 5"),
    ]


def json_cases() -> list[Case]:
    return [
        Case("latin-1", '[{"name": "café"}]'.encode("latin-1"), "not UTF-8: byte 0xe9 at offset 14", whole=True),
        Case("binary", bytes(range(256)) * 64, "not UTF-8: byte 0x80 at offset 128", whole=True),
        Case("huge", b'[{"name": "' + b"x" * (MIB + 10) + b'"}]', "larger than the limit of 1 MiB", whole=True),
        Case("deep-list", b"[" * 10_000 + b"]" * 10_000, "nested deeper than 64 levels"),
        Case("deep-object", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nested deeper than 64 levels"),
        Case("duplicate-key", b'[{"name": "a", "upstream": "127.0.0.1:9", "name": "b"}]', "duplicate key 'name'"),
        Case("nan", b'[{"name": "a", "upstream": "127.0.0.1:9", "x": NaN}]', "NaN is not valid JSON"),
    ]
