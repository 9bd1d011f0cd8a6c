"""What messages, reports, logs and tracebacks may show of personal data (base layer).

One place for the rules (``docs/security.md``, "Masking"):

- :func:`mask_id_text` — the masked form of a resident ID number: its first four characters
  (province and prefecture of registration) and ``*`` for every other character
  (``4501**************``); eight characters or fewer become all ``*``. Masking a masked number
  (also the older ``4501**********1234`` form) gives the current masked form, so stored masks
  can be re-masked without the key.
- :func:`scrub` — text with every ID-like token masked, wherever it sits: 17 digits followed by a
  digit or ``X``, or 15 digits (first-generation numbers), not part of a longer run of digits;
  older masked forms that still show the last four characters are re-masked too.
- :func:`shorten` — free text (a name, a contact) reduced to its first character and ``*``.
- :func:`report_value` — a cell as an error report may show it: IDs masked, and text with
  non-ASCII letters (a name that slipped into another column of a shifted file) shortened.

Nothing here imports the rest of dongxi, so :mod:`dongxi.errors` can use it.
"""

from __future__ import annotations

import re

__all__ = ["mask_id_text", "report_value", "scrub", "scrub_debug", "shorten"]

#: Characters of an ID number shown in its masked form (province + prefecture of registration).
VISIBLE = 4

_ID_LIKE = re.compile(
    r"(?<!\d)(?:\d{17}[\dXx]|\d{15}|\d{4}\*{10}\d{3}[\dXx])(?![\dXx*])",
)
# a run of letters beyond ASCII (Chinese text, a name)
_NON_ASCII_WORD = re.compile(r"(?:(?![\x00-\x7f])\w)+")


def mask_id_text(value: str) -> str:
    """The masked form of an ID number (normalised first: blanks removed, upper case)."""
    text = value.strip().replace(" ", "").upper()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:VISIBLE] + "*" * (len(text) - VISIBLE)


def scrub(text: str) -> str:
    """``text`` with every ID-like token replaced by its masked form."""
    if len(text) < 15:
        return text
    return _ID_LIKE.sub(lambda m: mask_id_text(m.group(0)), text)


def _has_letters_beyond_ascii(text: str) -> bool:
    return any(not ch.isascii() and ch.isalpha() for ch in text)


def shorten(text: str) -> str:
    """First character and ``*`` for the rest (``张**``)."""
    return text[:1] + "*" * max(len(text) - 1, 0)


def report_value(value: object) -> str | None:
    """A cell as reports and messages show it: IDs masked, non-ASCII free text shortened."""
    if value is None:
        return None
    text = scrub(str(value))
    if _has_letters_beyond_ascii(text):
        return shorten(text)
    return text


def scrub_debug(text: str) -> str:
    """A foreign exception message fit for ``--debug`` output: IDs masked and every run of
    non-ASCII letters (a name in a pandas or driver message) cut to its first character."""
    return _NON_ASCII_WORD.sub(lambda m: shorten(m.group(0)), scrub(text))
