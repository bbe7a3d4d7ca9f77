"""The tests of hash banks in the database: the `tipline banks` commands and the HMA-compatible
endpoints, on SQLite and PostgreSQL (the `site` fixtures are tests/conftest.py's). Helpers live in
banks_db_support.py, importable from here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # banks_db_support
