#!/usr/bin/env bash
# Starts PostgreSQL the way the official postgres image does, for the part of its interface the
# lab uses, so the compose file works with either image:
#   POSTGRES_USER, POSTGRES_PASSWORD (required), POSTGRES_DB, PGDATA;
#   on the first start: initdb, then /docker-entrypoint-initdb.d/*.sh (run, or sourced when not
#   executable) and *.sql against a server that listens on its unix socket only;
#   the command `postgres ...`, or only its options (`-c max_connections=40 ...`).
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != postgres ]; then
  exec "$@"
fi

export PGDATA=${PGDATA:-/var/lib/postgresql/data}

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  # a fresh volume belongs to root; a used one is already the server's (no recursive walk then)
  if [ "$(stat -c %U "$PGDATA")" != postgres ]; then
    chown -R postgres:postgres "$PGDATA"
  fi
  chown postgres:postgres /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set (the superuser password)}"
  user=${POSTGRES_USER:-postgres}
  database=${POSTGRES_DB:-$user}
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
    --pgdata="$PGDATA" >/dev/null
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  pg_ctl --pgdata="$PGDATA" --wait --silent \
    --options="-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" start
  export PGHOST=/var/run/postgresql PGUSER=$user
  if [ "$database" != postgres ]; then
    psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname=postgres --set=db="$database" \
      --command='CREATE DATABASE :"db"' >/dev/null
  fi
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh)
        if [ -x "$script" ]; then "$script"; else . "$script"; fi ;;
      *.sql)
        psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname="$database" --file="$script" >/dev/null ;;
    esac
  done
  unset PGHOST PGUSER
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait --silent stop
  echo "database initialised in $PGDATA"
fi

exec "$@"
