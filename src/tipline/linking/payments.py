"""Payment handles in free text: where a sextortion demand tells the child to send money.

Sextortion rings reuse their collection accounts across victims, so a Cash App `$cashtag`, a Venmo
or PayPal.me handle, a gift-card code with its merchant or a crypto wallet address named in one
report links it to every other report that names it. Each is normalised to `service:handle`
(`cashapp:$name`, `venmo:name`, `paypal:name`, `bitcoin:1A1z…`, `ethereum:0xabc…`,
`giftcard:steam:CODE`). Crypto addresses are accepted only with a valid checksum (Base58Check and
Bech32/Bech32m with the `base58` and `bech32` reference libraries), so a random string of letters
is never taken for a wallet.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import base58
import bech32

from tipline.linking.normalize import Normalised


@dataclass(frozen=True, slots=True)
class PaymentHandle:
    """One payment handle found in text: the words as written, and the normalised `service:handle`."""

    raw: str
    value: str
    service: str
    start: int


# A cashtag starts with a letter, so amounts ("$500", "$50k") are never taken for one.
_CASHTAG = re.compile(r"(?<![\w$])\$([A-Za-z][A-Za-z0-9_]{1,19})\b")
_CURRENCIES = {"usd", "cad", "aud", "eur", "gbp", "nzd", "mxn", "sgd", "hkd", "btc", "eth", "usdt"}
_VENMO_URL = re.compile(r"\bvenmo\.com/(?:u/)?([A-Za-z0-9_-]{5,30})\b", re.IGNORECASE)
_VENMO_AT = re.compile(r"\bvenmo\b[^@\n]{0,40}@([A-Za-z0-9_-]{5,30})\b", re.IGNORECASE)
_PAYPAL_ME = re.compile(r"\bpaypal\.me/([A-Za-z0-9]{1,20})\b", re.IGNORECASE)
_BTC_BASE58 = re.compile(r"\b([13][1-9A-HJ-NP-Za-km-z]{25,34})\b")
_BTC_BECH32 = re.compile(r"\b((?:bc|tb)1[02-9ac-hj-np-z]{11,87})\b", re.IGNORECASE)
_ETHEREUM = re.compile(r"\b(0x[0-9a-fA-F]{40})\b")
_GIFT_MERCHANTS = {
    "amazon": "amazon", "apple": "apple", "itunes": "apple", "google play": "google_play", "steam": "steam",
    "roblox": "roblox", "xbox": "xbox", "playstation": "playstation", "psn": "playstation", "nintendo": "nintendo",
    "razer gold": "razer_gold", "vanilla": "vanilla", "visa": "visa", "target": "target", "walmart": "walmart",
    "ebay": "ebay", "sephora": "sephora", "fortnite": "fortnite", "v-bucks": "fortnite", "vbucks": "fortnite",
}
_GIFT_CONTEXT = re.compile(r"\b(gift\s*-?\s*cards?|cards?|codes?|vouchers?)\b", re.IGNORECASE)
# A gift-card code: groups of letters and digits, at least 10 characters, with a digit and a letter in it.
_GIFT_CODE = re.compile(r"\b([A-Z0-9]{3,6}(?:[- ][A-Z0-9]{3,6}){2,4}|[A-Z0-9]{12,20})\b")
_MERCHANT = re.compile(r"\b(" + "|".join(sorted((re.escape(m) for m in _GIFT_MERCHANTS), key=len, reverse=True))
                       + r")\b", re.IGNORECASE)


def _valid_base58check(address: str) -> bool:
    try:
        decoded = base58.b58decode(address)
    except ValueError:
        return False
    if len(decoded) != 25:
        return False
    payload, checksum = decoded[:-4], decoded[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def _valid_segwit(address: str) -> bool:
    hrp = address[:2].lower()
    version, program = bech32.decode(hrp, address.lower())
    return version is not None and program is not None


def normalise_payment(raw: str) -> Normalised:
    """`service:handle` as the extractor stores it, from what someone typed (for search): a cashtag
    (`$name`), a `venmo:`/`paypal:`/`bitcoin:`/`ethereum:` value, a PayPal.me or Venmo link, or a bare
    wallet address."""
    text = unicodedata.normalize("NFKC", raw).strip()
    found = next(iter(find_payment_handles(text)), None)
    if found is not None:
        return Normalised(found.value, True)
    service, sep, handle = text.partition(":")
    service = service.strip().lower().replace(" ", "")
    handle = handle.strip()
    if sep and service in {"cashapp", "venmo", "paypal", "giftcard"}:
        handle = handle.lstrip("@").lower()
        if service == "cashapp" and not handle.startswith("$"):
            handle = "$" + handle
        return Normalised(f"{service}:{handle}", bool(handle.strip("$")))
    return Normalised(text.lower(), False)


def find_payment_handles(text: str) -> Iterator[PaymentHandle]:
    """Every payment handle in `text`, in the order they appear, each once."""
    if not text:
        return
    text = unicodedata.normalize("NFKC", text)
    seen: set[str] = set()
    found: list[PaymentHandle] = []

    def add(raw: str, service: str, handle: str, start: int) -> None:
        value = f"{service}:{handle}"
        if value not in seen:
            seen.add(value)
            found.append(PaymentHandle(raw, value, service, start))

    for match in _CASHTAG.finditer(text):
        if match.group(1).lower() not in _CURRENCIES:
            add(match.group(0), "cashapp", "$" + match.group(1).lower(), match.start())
    for match in _VENMO_URL.finditer(text):
        add(match.group(0), "venmo", match.group(1).lower(), match.start())
    for match in _VENMO_AT.finditer(text):
        add("@" + match.group(1), "venmo", match.group(1).lower(), match.start(1) - 1)
    for match in _PAYPAL_ME.finditer(text):
        add(match.group(0), "paypal", match.group(1).lower(), match.start())
    for match in _BTC_BASE58.finditer(text):
        if _valid_base58check(match.group(1)):
            add(match.group(1), "bitcoin", match.group(1), match.start())
    for match in _BTC_BECH32.finditer(text):
        if _valid_segwit(match.group(1)):
            add(match.group(1), "bitcoin", match.group(1).lower(), match.start())
    for match in _ETHEREUM.finditer(text):
        add(match.group(1), "ethereum", match.group(1).lower(), match.start())
    for match in _GIFT_CODE.finditer(text):
        code = match.group(1)
        compact = re.sub(r"[- ]", "", code)
        if len(compact) < 10 or not re.search(r"\d", compact) or not re.search(r"[A-Z]", compact):
            continue
        if any(h.start <= match.start() < h.start + len(h.raw) for h in found):
            continue  # part of a wallet address already found
        window = text[max(0, match.start() - 80):match.start()]
        merchants = list(_MERCHANT.finditer(window))
        if merchants and _GIFT_CONTEXT.search(window):
            merchant = _GIFT_MERCHANTS[merchants[-1].group(1).lower()]
            add(f"{merchants[-1].group(1)} … {code}", "giftcard", f"{merchant}:{compact}", match.start())
    yield from sorted(found, key=lambda handle: handle.start)
