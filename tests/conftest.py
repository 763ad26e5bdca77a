"""Shared fixtures.

Property tests (hypothesis) are deterministic: the profile loaded here derandomizes every one
and keeps no example database, so CI runs the same examples on every run and a failure found
once is found again (and kept as a regression test). `HYPOTHESIS_PROFILE=explore` draws new
examples each run, for looking for bugs rather than checking.

Databases: `db_url` / `db` run a test on SQLite and, when `POLYBOT_TEST_PG_URL` is set, on
PostgreSQL too (marked `postgres`). Each PostgreSQL test gets its own schema, selected through
the URL's search_path, so tests never see each other's tables and child processes that open
the same URL land in the same schema.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine

from engine.storage import Database, normalise_url

PG_URL_ENV = "POLYBOT_TEST_PG_URL"

hypothesis_settings.register_profile("deterministic", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


@pytest.fixture
def cli_isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A CLI test sees no POLYBOT_* variable of the machine and runs in its own folder (the
    default config and data dir are relative to it)."""
    for key in list(os.environ):
        if key.startswith("POLYBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _app_logger_restored() -> Iterator[None]:
    """A test that runs a command in-process gets the app's logging (`setup_logging`: own
    handlers, no propagation). Put the `polyb0t` logger back afterwards, or every later test
    that reads logs through `caplog` would silently see none of the app's records."""
    logger = logging.getLogger("polyb0t")
    handlers, level, propagate = list(logger.handlers), logger.level, logger.propagate
    yield
    for h in logger.handlers:
        if h not in handlers:
            h.close()
    logger.handlers[:] = handlers
    logger.setLevel(level)
    logger.propagate = propagate


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'data' / 'polybot.db').as_posix()}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh, empty PostgreSQL schema, dropped after the test."""
    raw = os.environ.get(PG_URL_ENV)
    if not raw:
        pytest.skip(
            f"PostgreSQL tests need {PG_URL_ENV}=postgresql://USER:PASSWORD@HOST/DB "
            f"(a role that may create schemas in DB)"
        )
    base = normalise_url(raw)
    schema = f"polybot_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = base.update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend (nothing created yet)."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """An initialised database on each backend."""
    database = Database(db_url)
    database.init()
    yield database
    database.close()


# The fake Polymarket (fake_polymarket) as fixtures for every test: `fake_polymarket`
# (async, frozen clock) and `fake_polymarket_thread` (background loop, for sync clients).
from tests.fake_exchange_fixture import (  # noqa: E402
    fake_polymarket_fixture,
    fake_polymarket_thread_fixture,
)

__all__ = ["fake_polymarket_fixture", "fake_polymarket_thread_fixture"]
