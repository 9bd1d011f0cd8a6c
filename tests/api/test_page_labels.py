"""How pages name the author of a change: the role in words, never its stored code."""

from __future__ import annotations

import pytest

from dongxi import vocab
from dongxi.web.pages import _actor


@pytest.mark.parametrize("role", sorted(vocab.USER_ROLES.codes))
def test_every_role_is_named_in_words(role: str) -> None:
    zh = _actor("zh", f"某干部 ({role})")
    en = _actor("en", f"someone ({role})")
    assert zh == f"某干部（{vocab.USER_ROLES[role].zh}）"
    assert en == f"someone ({vocab.USER_ROLES[role].en})"
    assert role not in zh


@pytest.mark.parametrize("stored", ["demo", "import (batch 3)", "x (not_a_role)", ""])
def test_other_authors_are_shown_as_stored(stored: str) -> None:
    assert _actor("zh", stored) == (stored or "—")
