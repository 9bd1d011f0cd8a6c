"""Encryption (AES-256-GCM) bound to the row's keyed hash, keyed hash, key check values."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongxi.errors import ConfigError, InputError
from dongxi.pii.idnumber import build_id
from dongxi.pii.protect import IdProtector, _derive, get_protector
from dongxi.settings import Settings

NUMBER = "11010519491231002X"
KEY_A = "a" * 40
KEY_B = "b" * 40


def test_round_trip_and_masking() -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    protected = protector.protect(NUMBER.lower())
    assert protected.id_masked == "1101**************"
    assert NUMBER.encode() not in protected.id_encrypted
    assert protector.decrypt(protected.id_encrypted, id_hash=protected.id_hash) == NUMBER
    # a fresh nonce each time: the same number never gives the same ciphertext
    assert protector.encrypt(NUMBER) != protector.encrypt(NUMBER)


def test_hash_is_stable_and_keyed() -> None:
    one = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    same = IdProtector(encryption_key=KEY_B, lookup_key=KEY_B)
    other = IdProtector(encryption_key=KEY_A, lookup_key=KEY_A)
    assert one.hash(NUMBER) == one.hash(NUMBER.lower()) == same.hash(f" {NUMBER} ")
    assert len(one.hash(NUMBER)) == 64
    assert one.hash(NUMBER) != other.hash(NUMBER)


def test_wrong_key_and_tampering_refused() -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    blob = protector.encrypt(NUMBER)
    id_hash = protector.hash(NUMBER)
    assert blob[:1] == b"\x02"
    with pytest.raises(ConfigError):
        IdProtector(encryption_key=KEY_B, lookup_key=KEY_B).decrypt(blob, id_hash=id_hash)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ConfigError):
        protector.decrypt(tampered, id_hash=id_hash)
    with pytest.raises(InputError, match="unknown format"):
        protector.decrypt(b"\x03" + blob[1:], id_hash=id_hash)
    with pytest.raises(InputError, match="old unbound format"):
        protector.decrypt(b"\x01" + blob[1:], id_hash=id_hash)


def test_ciphertext_is_bound_to_its_row() -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    other = "450123197003151230"
    one, two = protector.protect(NUMBER), protector.protect(other)
    assert protector.decrypt(two.id_encrypted, id_hash=two.id_hash) == other
    # two people's ciphertexts swapped: each fails, naming the row's keyed hash, not the number
    with pytest.raises(ConfigError, match="copied from another person's row") as info:
        protector.decrypt(two.id_encrypted, id_hash=one.id_hash)
    assert one.id_hash[:16] in str(info.value)
    assert other not in str(info.value) and NUMBER not in str(info.value)
    with pytest.raises(ConfigError):
        protector.decrypt(one.id_encrypted, id_hash=two.id_hash)


def test_invalid_number_refused_before_encryption() -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    with pytest.raises(InputError) as info:
        protector.protect("110105194912310021", row=3)
    assert "110105194912310021" not in str(info.value)


def test_protector_from_settings_and_no_default_key(tmp_path: Path) -> None:
    none = Settings(encryption_key=None, lookup_key=None, key_file=tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="dongxi db upgrade"):
        get_protector(none)
    with pytest.raises(ConfigError, match="No encryption key is configured"):
        IdProtector.from_settings(none)
    good = Settings(environment="production", encryption_key=KEY_A, lookup_key=KEY_B)
    assert get_protector(good).hash(NUMBER) == IdProtector(
        encryption_key=KEY_A, lookup_key=KEY_B
    ).hash(NUMBER)


def test_check_values_identify_the_keys_without_revealing_them() -> None:
    one = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    checks = one.check_values
    assert set(checks) == {"encryption", "lookup"}
    # HMAC-SHA-256 of the fixed label under a key derived with the check's own HKDF info
    expected = hmac.new(
        _derive(KEY_A, b"dongxi key check v1 encryption"), b"dongxi key check value", hashlib.sha256
    ).hexdigest()
    assert checks["encryption"] == expected
    # not the key, not the derived keys, and the same secret gives different values per use
    same = IdProtector(encryption_key=KEY_A, lookup_key=KEY_A)
    assert same.check_values["encryption"] != same.check_values["lookup"]
    for secret in (KEY_A, KEY_B):
        for derived in (
            _derive(secret, b"dongxi id-number encryption v1"),
            _derive(secret, b"dongxi id-number lookup v1"),
        ):
            assert derived.hex() not in checks.values()
        assert secret not in checks.values()
    # a different key of either kind gives a different value; the other stays the same
    other = IdProtector(encryption_key=KEY_B, lookup_key=KEY_B)
    assert other.check_values["encryption"] != checks["encryption"]
    assert other.check_values["lookup"] == checks["lookup"]


def test_hash_is_hmac_sha256_of_the_derived_key() -> None:
    # the stored hashes stay valid: the fast path computes exactly HMAC-SHA-256 (RFC 2104)
    derived = _derive(KEY_B, b"dongxi id-number lookup v1")
    expected = hmac.new(derived, NUMBER.encode("ascii"), hashlib.sha256).hexdigest()
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    assert protector.hash(NUMBER.lower()) == expected
    assert protector.protect(NUMBER).id_hash == expected


_ids = st.builds(
    lambda birth, sequence: build_id(region_code="450123", birth_date=birth, sequence=sequence),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


@settings(max_examples=60, deadline=None)
@given(pair=st.lists(_ids, min_size=2, max_size=2, unique=True))
def test_every_ciphertext_opens_only_in_its_own_row(pair: list[str]) -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    blobs = protector.encrypt_many(pair)
    hashes = protector.hash_many(pair)
    for blob, own, number in zip(blobs, hashes, pair, strict=True):
        assert protector.decrypt(blob, id_hash=own) == number
    for blob, other in ((blobs[0], hashes[1]), (blobs[1], hashes[0])):
        with pytest.raises(ConfigError):
            protector.decrypt(blob, id_hash=other)
