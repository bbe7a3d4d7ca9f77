"""Shared set-up for the matching tests: makes the synthetic-hash helpers importable."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # pdq_synthetic
