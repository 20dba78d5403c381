"""A role's SCRAM-SHA-256 secret, as PostgreSQL stores it in pg_authid (pure).

PostgreSQL accepts this string as a role's password (`CREATE ROLE ... PASSWORD 'SCRAM-SHA-256$...'`)
and PgBouncer accepts it in its auth file. Given the secret rather than the plain password,
PgBouncer checks a client's proof with two HMACs instead of deriving the key again (4096 rounds
of PBKDF2 for every client connection: in per-request mode that was most of PgBouncer's CPU), and
it logs in to PostgreSQL with the key the client's own proof carries, so both must hold the same
secret: the stack gives the same string to both.

    SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)        RFC 7677
    StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key"))
    ServerKey = HMAC(SaltedPassword, "Server Key")
    secret    = SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>  (base64)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

ITERATIONS = 4096  # PostgreSQL's own default (scram_iterations, PostgreSQL 16)


def scram_secret(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """The secret of `password` with `salt` (16 random bytes, as PostgreSQL makes). The lab's
    passwords are ASCII (secrets.token_urlsafe), which SASLprep leaves as they are."""
    if not password.isascii():
        raise ValueError("scram_secret: only ASCII passwords (SASLprep is not applied)")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server)}"
