"""Personal data protection: resident ID numbers (check, parse, mask) and their keys.

:mod:`dongxi.pii.idnumber` holds the pure functions of GB 11643 numbers (no key material);
:mod:`dongxi.pii.protect` encrypts (AES-256-GCM) and hashes (HMAC-SHA-256) them with the
configured keys. This package knows no SQL: the registry (:mod:`dongxi.store`), synthetic data
(:mod:`dongxi.synth`) and file intake (:mod:`dongxi.intake`) all use it.
"""
