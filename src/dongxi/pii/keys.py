"""The key file: random ID-number keys written once, readable by its owner only.

:func:`create_key_file` writes ``encryption_key`` and ``lookup_key`` (each 256 bits from
:func:`secrets.token_urlsafe`) into a TOML file created with mode 0600 and ``O_EXCL``, so an
existing file is never overwritten. ``dongxi db upgrade`` calls it on first set-up, when no key is
configured and the registry holds no ID number; ``dongxi demo`` calls it for its own folder.
:meth:`dongxi.settings.Settings.id_keys` reads the file.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from dongxi.errors import ConfigError

__all__ = ["create_key_file"]


def create_key_file(path: str | Path, *, purpose: str = "dongxi registry") -> Path:
    """Write new random keys to ``path`` (mode 0600); refuse if the file exists."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    when = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = (
        f"# dongxi ID-number keys for the {purpose}, created {when}.\n"
        "# Keep this file secret (mode 0600) and apart from the database; back it up safely:\n"
        "# without these keys the stored ID numbers can never be read or matched again.\n"
        f'encryption_key = "{secrets.token_urlsafe(32)}"\n'
        f'lookup_key = "{secrets.token_urlsafe(32)}"\n'
    )
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"The key file {target} already exists; it is never overwritten.",
            fix="Use the existing file, or move it away first if you really mean new keys.",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"The key file {target} cannot be created ({exc.strerror}).",
            fix="Choose a writable folder with DONGXI_KEY_FILE or DONGXI_DATA_DIR.",
        ) from None
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return target
