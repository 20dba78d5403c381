"""The app role's SCRAM secret: PostgreSQL takes the lab's string as the role's password, and
PgBouncer, given the same string, checks clients and logs in to PostgreSQL with it."""

from __future__ import annotations

import base64
import contextlib
import os
import uuid

import psycopg2
import pytest

from lab.stack import postgres
from lab.stack.base import APP_DB
from lab.stack.local.specs import pooler_home
from lab.stack.scram import scram_secret

pytestmark = pytest.mark.integration


@pytest.fixture
def role(pg):
    name = f"scram_{uuid.uuid4().hex[:8]}"
    password, salt = "s3cret-" + uuid.uuid4().hex, os.urandom(16)
    secret = scram_secret(password, salt)
    with contextlib.closing(pg.admin()) as admin, admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {name} LOGIN PASSWORD %s", (secret,))
        cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (name,))
        stored = cur.fetchone()[0]
    yield name, password, secret, stored
    with contextlib.closing(pg.admin()) as admin, admin.cursor() as cur:
        cur.execute(f"DROP ROLE {name}")


def login(pg, user: str, password: str) -> int:
    with contextlib.closing(psycopg2.connect(host="127.0.0.1", port=pg.port, dbname=APP_DB, user=user,
                                             password=password, connect_timeout=5)) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return int(cur.fetchone()[0])


def test_postgresql_keeps_the_secret_as_given_and_logs_the_password_in(pg, role):
    name, password, secret, stored = role
    assert stored == secret and secret.startswith("SCRAM-SHA-256$4096:")
    assert login(pg, name, password) == 1
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        login(pg, name, password + "x")


def test_the_secret_is_what_libpq_makes_for_the_same_salt(pg, role):
    name, password, secret, _ = role
    salt = secret.split("$")[1].split(":")[1]
    with contextlib.closing(pg.admin()) as admin:
        libpq = psycopg2.extensions.encrypt_password(password, name, admin, "scram-sha-256")
    # libpq draws its own salt; with it, the lab's function gives libpq's string exactly
    libpq_salt = base64.b64decode(libpq.split("$")[1].split(":")[1])
    assert scram_secret(password, libpq_salt) == libpq
    assert len(base64.b64decode(salt)) == 16


def test_non_ascii_passwords_are_refused():
    with pytest.raises(ValueError, match="ASCII"):
        scram_secret("pässword", b"0" * 16)


def test_a_pooled_stack_gives_pgbouncer_the_secret_not_the_password(make_stack):
    stack = make_stack("pooler.enabled=true", "loadgen.enabled=false")
    creds = postgres.Secrets.load(stack.run_dir / "pg" / "secrets.json")
    userlist = (pooler_home(postgres.cluster_home(stack.run_dir)) / "userlist.txt").read_text()
    assert creds.app_scram and creds.app_scram in userlist and creds.app_password not in userlist
    assert stack.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'arcade'") == [(creds.app_scram,)]
    with contextlib.closing(psycopg2.connect(stack.app_dsn())) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM players")  # through PgBouncer, which logged in to PostgreSQL with it
        assert cur.fetchone()[0] > 0
