#!/usr/bin/env bash
# Bootstraps what `make demo`, `make test` and `make bench` need on a fresh Debian/Ubuntu machine:
# a virtualenv with the project installed (editable, with the dev extra) and the PostgreSQL
# server and PgBouncer binaries from the OS packages. Extra OS packages can be named as arguments (e.g. wrk).
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bootstrap: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

apt_updated=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    say "no apt-get here: install $* with your system's package manager"; exit 1
  fi
  if [ "$apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "installing OS packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { say "apt-get install $* failed; run it by hand to see why"; exit 1; }
}

have_pg_server() {
  local d
  for d in "${LAB_PG_BIN:-}" "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    [ -n "$d" ] && [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && return 0
  done
  command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
}

# 1. PostgreSQL server binaries.
if ! have_pg_server; then
  apt_install postgresql postgresql-contrib
  # Debian's package starts a system cluster on 5432; the lab runs its own clusters and
  # leaves that one alone.
fi

# 1b. PgBouncer, which `enable-pooler` and pooled scenarios put between Arcade and PostgreSQL.
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  apt_install pgbouncer
fi

# 1c. Where a Docker engine answers, what the compose stack's images are built with when no
# registry answers (`gameday images build --offline`: debootstrap), and a Compose CLI.
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
  if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
    apt_install docker-compose
  fi
fi

# 2. Extra OS packages asked for by the caller (benchmarks want wrk).
for pkg in "$@"; do
  command -v "$pkg" >/dev/null 2>&1 || apt_install "$pkg"
done

# 3. The virtualenv.
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.13 python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { say "Python >= 3.11 is required (set PYTHON=/path/to/python3.11)"; exit 1; }

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    apt_install python3-venv
    "$PY" -m venv .venv
  fi
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  say "installing gameday-lab into .venv (log: .venv/install.log)"
  if ! { .venv/bin/python -m pip install --upgrade pip &&
         .venv/bin/python -m pip install -e '.[dev]'; } >.venv/install.log 2>&1; then
    tail -n 20 .venv/install.log
    say "pip install failed; the full log is in .venv/install.log"
    exit 1
  fi
  touch "$stamp"
fi
