"""More requests at once than the pool used to keep: the pool keeps what it opened.

Overflow connections are closed as soon as they are returned, so with the former default
(5 + 5 overflow) eight clients logging at once made PostgreSQL start a new backend every
six to eight requests (docs/benchmarks.md). The default pool (10, no overflow) opens each
connection once and keeps it.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from service.store import Store

AT_ONCE = 8
ROUNDS = 5


@pytest.mark.needs_backend("postgresql", "mysql")
def test_connections_used_at_once_stay_in_the_pool(store: Store) -> None:
    opened: list[object] = []

    def count(conn: object, _record: object) -> None:
        opened.append(conn)

    together = threading.Barrier(AT_ONCE)
    errors: list[BaseException] = []

    def request() -> None:
        try:
            for _ in range(ROUNDS):
                with store.db.read() as conn:
                    together.wait(timeout=30)  # all AT_ONCE connections out at the same time
                    conn.execute(sa.text("SELECT 1"))
                together.wait(timeout=30)  # all returned before the next round
        except BaseException as exc:
            errors.append(exc)

    sa.event.listen(store.db.engine, "connect", count)
    try:
        threads = [threading.Thread(target=request) for _ in range(AT_ONCE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sa.event.remove(store.db.engine, "connect", count)
    assert not errors
    assert len(opened) <= AT_ONCE, f"{len(opened)} connections opened in {ROUNDS} rounds"
