"""The CyberTipline-compatible reporting API: its shipped XSD, XML mapping, and the /ispws endpoints."""

from pathlib import Path

SCHEMA_PATH = Path(__file__).parent / "cybertipline-report.xsd"
