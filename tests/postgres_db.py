"""Fresh PostgreSQL databases on the test server (``export "$(tests/services/postgres.sh)"`` starts one and sets
``TWEETBERT_TEST_POSTGRES_URL``), for tests that run studies on a real database server."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

POSTGRES_URL = "TWEETBERT_TEST_POSTGRES_URL"


def server_url() -> str | None:
    """The test server's URL (psycopg 3 driver), or None when no server is configured."""
    from tweetbert.sweep.storage import database_url

    base = os.environ.get(POSTGRES_URL)
    return database_url(base) if base else None


def not_configured(what: str) -> str:
    return (f"{what} NOT RUN: {POSTGRES_URL} is not set; start a server with "
            "`export \"$(tests/services/postgres.sh)\"`")


@contextlib.contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server`` (its role may create databases), dropped after the block."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"tweetbert_test_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            # Our own sessions left open are ended first; a plain DROP then stops an autovacuum worker visiting the
            # database itself, which DROP ... WITH (FORCE) would refuse to (it belongs to no role this user is in).
            connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = %s AND usename = current_user AND pid <> pg_backend_pid()", (name,))
            connection.execute(f'DROP DATABASE "{name}"')
