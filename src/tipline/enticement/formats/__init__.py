"""Chat-log formats: a module per format (tipline JSON, CSV, text logs, WhatsApp, Discord, PAN 2012 XML),
each with its detection and parser, listed in one table (`registry.FORMATS_BY_NAME`) that auto-detection
and `parse_conversations` use; `base` holds the limits, the error and decoding they share."""

from tipline.enticement.formats.base import DEFAULT_LIMITS, ConversationFormatError, InputLimits, decode_input
from tipline.enticement.formats.csv_log import parse_csv
from tipline.enticement.formats.discord import parse_discord
from tipline.enticement.formats.pan12 import iter_pan12, parse_pan12
from tipline.enticement.formats.registry import (
    FORMATS,
    FORMATS_BY_NAME,
    PARSERS,
    detect_format,
    parse_conversations,
)
from tipline.enticement.formats.text_log import parse_text_log
from tipline.enticement.formats.tipline_json import conversation_from_dict, parse_tipline_json
from tipline.enticement.formats.whatsapp import WHATSAPP_ANDROID, WHATSAPP_IOS, parse_whatsapp

__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "FORMATS_BY_NAME",
    "PARSERS",
    "WHATSAPP_ANDROID",
    "WHATSAPP_IOS",
    "ConversationFormatError",
    "InputLimits",
    "conversation_from_dict",
    "decode_input",
    "detect_format",
    "iter_pan12",
    "parse_conversations",
    "parse_csv",
    "parse_discord",
    "parse_pan12",
    "parse_text_log",
    "parse_tipline_json",
    "parse_whatsapp",
]
