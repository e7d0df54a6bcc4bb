"""The ``v3`` command line (installed as the ``v3_cli`` package; see pyproject.toml)."""
