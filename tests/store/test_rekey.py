"""Rotating the ID encryption key (``dongxi db rotate-key``), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from test_import import households, people

import dongxi.store._rekey as rekey
from dongxi.cli import main
from dongxi.errors import ConfigError
from dongxi.settings import get_settings
from dongxi.store import reveal_id_number, session_scope, verify_chain
from dongxi.store.importer import import_frames

NEW_KEY = "n" * 40
THIRD_KEY = "t" * 40


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _use_key(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("DONGXI_ENCRYPTION_KEY", key)
    get_settings.cache_clear()


def _ciphertexts(engine: Engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id_hash, id_encrypted FROM people")).all()
    return {h: bytes(b) for h, b in rows}


def _reveal_all(engine: Engine) -> dict[str, str]:
    out = {}
    with session_scope(engine) as session:
        for id_hash in _ciphertexts(engine):
            out[id_hash] = reveal_id_number(
                session, actor="tester", id_hash=id_hash, reason="key rotation test"
            )
    return out


def test_rotate_key_re_encrypts_everything_once(
    registry: Engine, settings_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = registry.url.render_as_string(hide_password=False)
    settings_env.setattr(rekey, "_BATCH", 5)  # several batches of 5 rows
    hh = households(4, prefix="R")
    frame = people(hh)
    import_frames(registry, {"households": hh, "people": frame}, actor="tester")
    clear = _reveal_all(registry)
    assert sorted(clear.values()) == sorted(frame["身份证号"])
    old_key = get_settings().encryption_key.get_secret_value()
    before = _ciphertexts(registry)

    _use_key(settings_env, NEW_KEY)
    with pytest.raises(ConfigError):  # the new key cannot read the old ciphertexts yet
        _reveal_all(registry)
    settings_env.setenv("OLD_DONGXI_KEY", old_key)
    capsys.readouterr()
    assert main(["db", "rotate-key", "--old-key-env", "OLD_DONGXI_KEY", "--url", url]) == 0
    assert "12 of 12 (0 already" in capsys.readouterr().out
    after = _ciphertexts(registry)
    assert set(after) == set(before)
    assert all(after[h] != before[h] for h in before)
    assert _reveal_all(registry) == clear

    # repeated: nothing left to do
    assert main(["db", "rotate-key", "--old-key-env", "OLD_DONGXI_KEY", "--url", url]) == 0
    assert "0 of 12 (12 already" in capsys.readouterr().out
    assert _ciphertexts(registry) == after

    # a key that reads nothing: refused, nothing changed
    _use_key(settings_env, THIRD_KEY)
    settings_env.setenv("WRONG_KEY", "w" * 40)
    assert main(["db", "rotate-key", "--old-key-env", "WRONG_KEY", "--url", url]) == 2
    assert "neither" in capsys.readouterr().err
    assert _ciphertexts(registry) == after
    # the same key twice, and a variable that is not set: refused
    settings_env.setenv("SAME_KEY", THIRD_KEY)
    assert main(["db", "rotate-key", "--old-key-env", "SAME_KEY", "--url", url]) == 2
    assert main(["db", "rotate-key", "--old-key-env", "NOT_SET_ANYWHERE", "--url", url]) == 2
    assert _ciphertexts(registry) == after

    check = verify_chain(registry)
    assert check.ok, check
    with registry.connect() as conn:
        entries = conn.execute(
            sa.text("SELECT after FROM change_log WHERE action = 'rekey' ORDER BY seq")
        ).scalars()
        logged = list(entries)
    assert logged[-2:] == [
        '{"already":0,"rotated":12,"rows":12}',
        '{"already":12,"rotated":0,"rows":12}',
    ]
    assert all(old_key not in text and NEW_KEY not in text for text in logged)
