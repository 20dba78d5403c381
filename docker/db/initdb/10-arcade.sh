#!/usr/bin/env bash
# First start of the database: Arcade's role and database. The schema and the seed data come
# from the `seed` service (python -m arcade.seed), the same code the embedded stack uses.
set -euo pipefail
: "${ARCADE_DB_PASSWORD:?ARCADE_DB_PASSWORD must be set (the password of the arcade role)}"
# ARCADE_DB_SCRAM, when given, is that password's SCRAM secret (SCRAM-SHA-256$...): PostgreSQL
# takes it as the password, and PgBouncer's auth file holds the same string.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set=pw="${ARCADE_DB_SCRAM:-$ARCADE_DB_PASSWORD}" <<'SQL' >/dev/null
CREATE ROLE arcade LOGIN PASSWORD :'pw';
CREATE DATABASE arcade OWNER arcade;
SQL
