"""Constants shared by the service tests (imported by name; conftest modules are not)."""

from __future__ import annotations

from dongxi.services.principal import Principal

PASSWORD = "correct horse battery staple"
ADMIN = Principal(name="test-admin", role="admin")
