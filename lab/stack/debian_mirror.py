"""The host's Debian mirror, for building images without a registry: its sources, its apt
settings, and a debootstrapped tree made into a small container base (pure but for reading
/etc/apt and /etc/os-release)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lab.errors import UsageError

DEBOOTSTRAP_VARIANT = "minbase"
TRIMMED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian",
           "var/cache/apt/archives", "var/lib/apt/lists", "var/log")

@dataclass(frozen=True)
class AptSource:
    uri: str
    suite: str


def host_codename() -> str:
    explicit = os.environ.get("LAB_DEBIAN_SUITE")
    if explicit:
        return explicit
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    raise UsageError("cannot tell this machine's Debian release; set LAB_DEBIAN_SUITE (e.g. bookworm)")


def parse_sources(texts: Iterable[tuple[str, str]]) -> list[AptSource]:
    """`deb` sources with component main from one-line (.list) and deb822 (.sources) files (pure)."""
    found: list[AptSource] = []
    for name, text in texts:
        if name.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                    continue
                if "main" not in fields.get("components", "").split():
                    continue
                for uri in fields.get("uris", "").split():
                    found += [AptSource(uri.rstrip("/"), suite) for suite in fields.get("suites", "").split()]
        else:
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()  # options like [arch=amd64]
                if len(words) >= 4 and words[0] == "deb" and "main" in words[3:]:
                    found.append(AptSource(words[1].rstrip("/"), words[2]))
    return found


def host_sources(codename: str) -> list[AptSource]:
    """The host's Debian sources for `codename` (and its -updates, -security), or LAB_DEBIAN_MIRROR."""
    explicit = os.environ.get("LAB_DEBIAN_MIRROR")
    if explicit:
        return [AptSource(explicit.rstrip("/"), codename)]
    texts: list[tuple[str, str]] = []
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if path.suffix in (".list", ".sources") and path.is_file():
            try:
                texts.append((path.name, path.read_text()))
            except OSError:
                continue
    sources = [s for s in parse_sources(texts) if s.suite == codename or s.suite.startswith(codename + "-")]
    if not any(s.suite == codename for s in sources):
        raise UsageError(
            f"no Debian mirror for '{codename}' in /etc/apt/sources.list(.d); "
            "set LAB_DEBIAN_MIRROR (e.g. http://deb.debian.org/debian)")
    return sources


def host_apt_settings() -> str:
    """The host's apt Acquire settings that a copy of its mirror needs (snapshot mirrors: no
    Valid-Until check; a proxy without credentials)."""
    keep = []
    for path in sorted(Path("/etc/apt/apt.conf.d").glob("*")):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            text = line.strip()
            if re.match(r'Acquire::(Check-Valid-Until|Check-Date|https?::Proxy)\b', text) and "@" not in text:
                keep.append(text)
    return "\n".join(keep) + ("\n" if keep else "")


# --- building -----------------------------------------------------------------------------------


def finish_rootfs(rootfs: Path, sources: str, apt_settings: str) -> None:
    """Make a debootstrapped tree a small container base: the host's mirror, no docs or caches,
    no services started by packages, no recommends."""
    (rootfs / "etc/apt/sources.list").write_text(sources)
    for stale in (rootfs / "etc/apt/sources.list.d").glob("*"):
        stale.unlink()
    conf = rootfs / "etc/apt/apt.conf.d"
    (conf / "90gameday").write_text(
        'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'
        'Acquire::Languages "none";\n' + apt_settings)
    (rootfs / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True, exist_ok=True)
    (rootfs / "etc/dpkg/dpkg.cfg.d/90gameday-nodoc").write_text(
        "path-exclude=/usr/share/doc/*\npath-include=/usr/share/doc/*/copyright\n"
        "path-exclude=/usr/share/man/*\npath-exclude=/usr/share/info/*\npath-exclude=/usr/share/locale/*\n"
        "path-exclude=/usr/share/lintian/*\n")
    policy = rootfs / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    for rel in TRIMMED:
        target = rootfs / rel
        if target.is_dir():
            for child in target.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
    for rel in ("etc/resolv.conf", "etc/hostname"):
        path = rootfs / rel
        if path.exists() or path.is_symlink():
            path.unlink()
            path.write_text("")
