"""Two writers appending at once never fork the chain."""

from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

from dongxi.errors import BackendError, ConflictError, InputError
from dongxi.store import Change, make_engine, record_changes, verify_chain


def test_concurrent_writers_keep_one_chain(registry: Engine) -> None:
    first_wrote = threading.Event()
    outcome: dict[str, object] = {}
    other = make_engine(registry.url.render_as_string(hide_password=False))

    def second_writer() -> None:
        first_wrote.wait(10)
        try:
            with other.begin() as conn:
                record_changes(
                    conn,
                    actor="b",
                    action="create",
                    entity="households",
                    changes=[Change(key="B1", after={"x": 2})],
                )
            outcome["second"] = "written"
        except (ConflictError, InputError, BackendError) as exc:
            outcome["second"] = type(exc).__name__

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        with registry.begin() as conn:
            record_changes(
                conn,
                actor="a",
                action="create",
                entity="households",
                changes=[Change(key="A1", after={"x": 1})],
            )
            first_wrote.set()
            thread.join(0.5)  # the second writer is now waiting for our lock
    finally:
        first_wrote.set()
        thread.join(30)
        other.dispose()
    assert outcome.get("second") == "written"  # queued behind the first writer's lock
    check = verify_chain(registry)
    assert check.ok, check
