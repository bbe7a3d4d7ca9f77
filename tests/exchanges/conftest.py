"""The exchange tests: fake exchanges over real HTTP on 127.0.0.1 (fake_ncmec.py) and the helpers of
exchange_support.py, importable from this folder."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
