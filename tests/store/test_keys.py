"""ID-number keys: no default key, the key file, key check values, ciphertexts bound to their row,
migration 0004 — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine
from store_factories import BACKENDS, household, id_number, person
from test_import import counts, households, people, write_csv

from dongxi.cli import main
from dongxi.errors import ConfigError
from dongxi.pii.protect import IdProtector, _derive, get_protector
from dongxi.settings import KEY_FILE_NAME, get_settings
from dongxi.store import (
    create_person,
    reveal_id_number,
    session_scope,
    update_person,
)
from dongxi.store._keys import KeyMismatchError
from dongxi.store.db import current_revision, downgrade, head_revision, make_engine, upgrade
from dongxi.store.exporter import export_frame
from dongxi.store.importer import import_frames
from dongxi.store.scope import Scope

OTHER_KEY = "o" * 40


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _set(env: pytest.MonkeyPatch, name: str, value: str | None) -> None:
    if value is None:
        env.delenv(name, raising=False)
    else:
        env.setenv(name, value)
    get_settings.cache_clear()


def _no_keys(env: pytest.MonkeyPatch, data_dir: Path) -> None:
    """No key in the environment and no key file where the settings look for one."""
    _set(env, "DONGXI_ENCRYPTION_KEY", None)
    _set(env, "DONGXI_LOOKUP_KEY", None)
    _set(env, "DONGXI_KEY_FILE", None)
    _set(env, "DONGXI_DATA_DIR", str(data_dir))


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _checks(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, check_value FROM key_checks")).all()
    return {str(n): str(v) for n, v in rows}


def _all_counts(engine: Engine) -> dict[str, int]:
    out = counts(engine)
    with engine.connect() as conn:
        out["key_checks"] = conn.execute(sa.text("SELECT count(*) FROM key_checks")).scalar_one()
    return out


def _load(engine: Engine, prefix: str = "K", seq0: int = 0) -> pd.DataFrame:
    hh = households(2, prefix=prefix)
    frame = people(hh, seq0=seq0)
    results = import_frames(engine, {"households": hh, "people": frame}, actor="tester")
    assert all(r.ok and r.written for r in results.values())
    return frame


# --- 1. no key: a clear refusal, nothing written -------------------------------------------------


def test_no_key_refused_with_how_to_create_them(
    registry: Engine,
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _load(registry)
    before = _all_counts(registry)
    _set(env, "DONGXI_DATABASE_URL", _url(registry))
    _no_keys(env, tmp_path)
    hh = households(1, prefix="N")
    hh_csv = write_csv(hh, tmp_path / "hh.csv")
    pp_csv = write_csv(people(hh, seq0=100), tmp_path / "people.csv")
    capsys.readouterr()
    assert main(["import", str(pp_csv)]) == 2
    err = capsys.readouterr().err
    assert "No encryption key is configured" in err
    assert "dongxi db upgrade" in err and "DONGXI_ENCRYPTION_KEY" in err
    assert main(["export", "people", "--out", str(tmp_path / "out.csv"), "--unmask"]) == 2
    assert "No encryption key is configured" in capsys.readouterr().err
    env.setenv("OLD_KEY", OTHER_KEY)
    assert main(["db", "rotate-key", "--old-key-env", "OLD_KEY"]) == 2
    assert "dongxi db upgrade" in capsys.readouterr().err
    with session_scope(registry) as session, pytest.raises(ConfigError, match="db upgrade"):
        create_person(session, actor="t", id_number=id_number(900), data=person("K0000", 9))
    # households hold no ID number, but every write seals the change log's head with a key
    # derived from the look-up key (docs/registry.md, audit trail): refused alike
    assert main(["import", str(hh_csv)]) == 2
    assert "dongxi db upgrade" in capsys.readouterr().err
    assert _all_counts(registry) == before
    assert not (tmp_path / KEY_FILE_NAME).exists()  # only 'dongxi db upgrade' creates keys


# --- 2. the key file: made once by 'dongxi db upgrade', 0600, random ----------------------------


@pytest.mark.parametrize("empty_url", BACKENDS, indirect=True)
def test_upgrade_creates_the_key_file_once(
    empty_url: str, env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_keys(env, tmp_path)
    assert main(["db", "upgrade", "--url", empty_url, "--no-reference"]) == 0
    out = capsys.readouterr().out
    path = tmp_path / KEY_FILE_NAME
    assert "created the key file" in out and path.name in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    keys = tomllib.loads(text)
    assert set(keys) == {"encryption_key", "lookup_key"}
    assert len(keys["encryption_key"]) >= 43 and len(keys["lookup_key"]) >= 43  # 256 bits
    assert keys["encryption_key"] != keys["lookup_key"]
    assert keys["encryption_key"] not in out and keys["lookup_key"] not in out
    protector = IdProtector(encryption_key=keys["encryption_key"], lookup_key=keys["lookup_key"])
    engine = make_engine(empty_url)
    try:
        assert _checks(engine) == protector.check_values
        assert keys["encryption_key"] not in str(_checks(engine))
    finally:
        engine.dispose()
    # again: the file is read, never rewritten
    assert main(["db", "upgrade", "--url", empty_url, "--no-reference"]) == 0
    assert f"ID-number keys from {path}" in capsys.readouterr().out.replace("\n", "")
    assert path.read_text(encoding="utf-8") == text
    # keys are random: another first set-up gets other keys
    other_dir = tmp_path / "other"
    _set(env, "DONGXI_DATA_DIR", str(other_dir))
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["db", "upgrade", "--url", fresh, "--no-reference"]) == 0
    capsys.readouterr()
    assert (
        tomllib.loads((other_dir / KEY_FILE_NAME).read_text())["encryption_key"]
        != (keys["encryption_key"])
    )
    # a registry that already has keys is never given new ones: refused, no file created
    lost = tmp_path / "lost"
    _set(env, "DONGXI_DATA_DIR", str(lost))
    assert main(["db", "upgrade", "--url", empty_url, "--no-reference"]) == 2
    assert "already holds" in capsys.readouterr().err
    assert not (lost / KEY_FILE_NAME).exists()
    # a key file others may read is refused
    path.chmod(0o644)
    _set(env, "DONGXI_DATA_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="chmod 600"):
        get_settings().id_keys()


# --- 3. keys that differ from the registry's: refused before any row is written -----------------


@pytest.mark.parametrize(
    ("variable", "key"),
    [("DONGXI_ENCRYPTION_KEY", "encryption"), ("DONGXI_LOOKUP_KEY", "lookup")],
)
def test_other_key_refused_before_writing_naming_the_key(
    registry: Engine,
    env: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    key: str,
) -> None:
    frame = _load(registry)
    recorded = _checks(registry)
    assert recorded == get_protector().check_values
    id_hash = next(iter(_ciphertexts(registry)))
    before = _all_counts(registry)
    _set(env, variable, OTHER_KEY)
    hh = households(2, prefix="W")
    # new households and people, and the same people again (another look-up key would give
    # them a second keyed hash: a second membership, duplicate member numbers)
    for frames in (
        {"households": hh, "people": people(hh, seq0=50)},
        {"households": households(2, prefix="K"), "people": frame},
    ):
        with pytest.raises(KeyMismatchError) as info:
            import_frames(registry, frames, actor="tester")
        assert info.value.key == key
        assert variable in str(info.value) and "refused before" in str(info.value)
        assert _all_counts(registry) == before
    with session_scope(registry) as session, pytest.raises(KeyMismatchError, match=variable):
        create_person(session, actor="t", id_number=id_number(901), data=person("K0000", 9))
    with session_scope(registry) as session, pytest.raises(KeyMismatchError, match=variable):
        update_person(session, actor="t", id_hash=id_hash, changes={"monthly_wage": 1.0})
    with session_scope(registry) as session, pytest.raises(KeyMismatchError, match=variable):
        reveal_id_number(session, actor="t", id_hash=id_hash, reason="test")
    assert _all_counts(registry) == before
    # the command line says which key
    _set(env, "DONGXI_DATABASE_URL", _url(registry))
    csv = write_csv(people(households(2, prefix="K"), seq0=70), tmp_path / "p.csv")
    capsys.readouterr()
    assert main(["import", str(csv)]) == 2
    label = {"encryption": "encryption key", "lookup": "look-up key"}[key]
    assert f"{label} ({variable})" in capsys.readouterr().err
    assert _all_counts(registry) == before
    assert _checks(registry) == recorded


# --- 4. ciphertexts bound to their row -----------------------------------------------------------


def _ciphertexts(engine: Engine) -> dict[str, bytes]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id_hash, id_encrypted FROM people")).all()
    return {str(h): bytes(b) for h, b in rows}


def test_swapped_ciphertexts_are_detected(registry: Engine) -> None:
    frame = _load(registry)
    blobs = _ciphertexts(registry)
    assert all(b[:1] == b"\x02" for b in blobs.values())
    one, two, *rest = sorted(blobs)
    with registry.begin() as conn:  # someone swaps two people's encrypted numbers
        for target, source in ((one, two), (two, one)):
            conn.execute(
                sa.text("UPDATE people SET id_encrypted = :b WHERE id_hash = :h"),
                {"b": blobs[source], "h": target},
            )
    with session_scope(registry) as session:
        for id_hash in (one, two):
            with pytest.raises(ConfigError, match="copied from another person's row") as info:
                reveal_id_number(session, actor="t", id_hash=id_hash, reason="test")
            assert not any(str(n) in str(info.value) for n in frame["身份证号"])
        number = reveal_id_number(session, actor="t", id_hash=rest[0], reason="test")
    assert get_protector().hash(number) == rest[0]
    with pytest.raises(ConfigError, match="copied from another person's row"):
        export_frame(registry, kind="people", unmask=True, actor="t", scope=Scope.everything())


# --- 5. migration 0004: old-format rows re-encrypted ---------------------------------------------

_V1_AAD = b"dongxi:people.id_number:v1"


def _v1_blob(encryption_key: str, number: str) -> bytes:
    """The format-1 ciphertext (before 0004): unbound associated data."""
    aes = AESGCM(_derive(encryption_key, b"dongxi id-number encryption v1"))
    nonce = os.urandom(12)
    return b"\x01" + nonce + aes.encrypt(nonce, number.encode("ascii"), _V1_AAD)


def _v1_open(encryption_key: str, blob: bytes) -> str:
    aes = AESGCM(_derive(encryption_key, b"dongxi id-number encryption v1"))
    return aes.decrypt(blob[1:13], blob[13:], _V1_AAD).decode("ascii")


@pytest.mark.parametrize("empty_url", BACKENDS, indirect=True)
def test_migration_0004_re_encrypts_old_rows(empty_url: str, env: pytest.MonkeyPatch) -> None:
    keys = get_settings().id_keys()
    protector = IdProtector(encryption_key=keys.encryption, lookup_key=keys.lookup)
    assert upgrade(empty_url, "0002", load_reference=False) == "0002"
    numbers = {protector.hash(id_number(seq)): id_number(seq) for seq in (11, 12, 13)}
    engine = make_engine(empty_url)
    try:
        with engine.begin() as conn:  # rows in the old format, as 0002 registries hold them
            conn.execute(
                sa.table("households", *[sa.column(c) for c in household()]).insert(),
                [household("H0001")],
            )
            rows = []
            for i, (id_hash, number) in enumerate(sorted(numbers.items()), start=1):
                data = person("H0001", i) | {
                    "id_hash": id_hash,
                    "id_encrypted": _v1_blob(keys.encryption, number),
                    "id_masked": number[:4] + "**********" + number[14:],
                }
                rows.append(data)
            conn.execute(sa.table("people", *[sa.column(c) for c in rows[0]]).insert(), rows)
        old = _ciphertexts(engine)

        # without keys, or with another key of either kind: refused, nothing changed
        for variable, value, message in (
            ("DONGXI_ENCRYPTION_KEY", None, "Migration 0004 re-encrypts the registry's 3"),
            ("DONGXI_ENCRYPTION_KEY", OTHER_KEY, "encryption key (DONGXI_ENCRYPTION_KEY)"),
            ("DONGXI_LOOKUP_KEY", OTHER_KEY, "look-up key (DONGXI_LOOKUP_KEY)"),
        ):
            with env.context() as scoped:
                scoped.setenv("DONGXI_KEY_FILE", "/nonexistent/dongxi-keys.toml")
                _set(scoped, variable, value)
                with pytest.raises(
                    ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")
                ):
                    upgrade(engine, load_reference=False)
            get_settings.cache_clear()
            assert current_revision(engine) == "0002"
            assert _ciphertexts(engine) == old

        assert upgrade(engine, load_reference=False) == head_revision()
        new = _ciphertexts(engine)
        assert set(new) == set(numbers)
        assert all(blob[:1] == b"\x02" and blob != old[h] for h, blob in new.items())
        assert {h: protector.decrypt(b, id_hash=h) for h, b in new.items()} == numbers
        assert _checks(engine) == protector.check_values
        with session_scope(engine) as session:
            for id_hash, number in numbers.items():
                assert reveal_id_number(session, actor="t", id_hash=id_hash, reason="t") == number

        # and back: format 1 again, readable the old way
        assert downgrade(engine, "0002") == "0002"
        back = _ciphertexts(engine)
        assert all(blob[:1] == b"\x01" for blob in back.values())
        assert {h: _v1_open(keys.encryption, b) for h, b in back.items()} == numbers
    finally:
        engine.dispose()


# --- 6. rotate-key moves the registry's check value to the new key -------------------------------


def test_rotate_key_moves_the_check_value(
    registry: Engine, env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(registry)
    _load(registry)
    old_key = get_settings().id_keys().encryption
    lookup_check = _checks(registry)["lookup"]
    _set(env, "DONGXI_ENCRYPTION_KEY", OTHER_KEY)
    env.setenv("OLD_KEY", old_key)
    assert main(["db", "rotate-key", "--old-key-env", "OLD_KEY", "--url", url]) == 0
    assert "6 of 6 (0 already" in capsys.readouterr().out
    assert _checks(registry) == {
        "encryption": get_protector().check_values["encryption"],
        "lookup": lookup_check,
    }
    _load(registry, prefix="M", seq0=40)  # the new key writes
    # the old key is now refused
    _set(env, "DONGXI_ENCRYPTION_KEY", old_key)
    with pytest.raises(KeyMismatchError, match="DONGXI_ENCRYPTION_KEY"):
        _load(registry, prefix="Q", seq0=80)
    # a rotation under another look-up key is refused before reading anything
    _set(env, "DONGXI_ENCRYPTION_KEY", "t" * 40)
    _set(env, "DONGXI_LOOKUP_KEY", "l" * 40)
    env.setenv("OLD_KEY", OTHER_KEY)
    assert main(["db", "rotate-key", "--old-key-env", "OLD_KEY", "--url", url]) == 2
    assert "look-up key (DONGXI_LOOKUP_KEY)" in capsys.readouterr().err
