"""Built-in measurement specs (TOML files), found by name with ``load_spec(name)``."""
