"""Identifier extraction and normalisation, and the links between reports that share identifiers."""

from tipline.linking.extract import ExtractionContext, extract_identifiers
from tipline.linking.normalize import (
    normalise_device_id,
    normalise_email,
    normalise_esp_user_id,
    normalise_ip,
    normalise_phone,
    normalise_platform,
    normalise_screen_name,
    normalise_url,
)

__all__ = [
    "ExtractionContext",
    "extract_identifiers",
    "normalise_device_id",
    "normalise_email",
    "normalise_esp_user_id",
    "normalise_ip",
    "normalise_phone",
    "normalise_platform",
    "normalise_screen_name",
    "normalise_url",
]
