"""Encryption (AES-256-GCM), keyed hash and refusal of placeholder keys."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from dongxi.errors import ConfigError, InputError
from dongxi.pii.protect import IdProtector, _derive, get_protector
from dongxi.settings import PLACEHOLDER_KEY, Settings

NUMBER = "11010519491231002X"
KEY_A = "a" * 40
KEY_B = "b" * 40


def test_round_trip_and_masking() -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    protected = protector.protect(NUMBER.lower())
    assert protected.id_masked == "1101**************"
    assert NUMBER.encode() not in protected.id_encrypted
    assert protector.decrypt(protected.id_encrypted) == NUMBER
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
    with pytest.raises(ConfigError):
        IdProtector(encryption_key=KEY_B, lookup_key=KEY_B).decrypt(blob)
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(ConfigError):
        protector.decrypt(tampered)
    with pytest.raises(InputError):
        protector.decrypt(b"\x02" + blob[1:])


def test_invalid_number_refused_before_encryption() -> None:
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    with pytest.raises(InputError) as info:
        protector.protect("110105194912310021", row=3)
    assert "110105194912310021" not in str(info.value)


def test_placeholder_key_refused_in_production() -> None:
    production = Settings(
        environment="production", encryption_key=PLACEHOLDER_KEY, lookup_key=PLACEHOLDER_KEY
    )
    with pytest.raises(ConfigError):
        get_protector(production)
    with pytest.raises(ConfigError):
        IdProtector.from_settings(production)
    good = Settings(environment="production", encryption_key=KEY_A, lookup_key=KEY_B)
    assert get_protector(good).hash(NUMBER) == IdProtector(
        encryption_key=KEY_A, lookup_key=KEY_B
    ).hash(NUMBER)
    # development accepts the placeholder
    development = Settings(
        environment="development", encryption_key=PLACEHOLDER_KEY, lookup_key=PLACEHOLDER_KEY
    )
    assert get_protector(development).hash(NUMBER)


def test_hash_is_hmac_sha256_of_the_derived_key() -> None:
    # the stored hashes stay valid: the fast path computes exactly HMAC-SHA-256 (RFC 2104)
    derived = _derive(KEY_B, b"dongxi id-number lookup v1")
    expected = hmac.new(derived, NUMBER.encode("ascii"), hashlib.sha256).hexdigest()
    protector = IdProtector(encryption_key=KEY_A, lookup_key=KEY_B)
    assert protector.hash(NUMBER.lower()) == expected
    assert protector.protect(NUMBER).id_hash == expected
