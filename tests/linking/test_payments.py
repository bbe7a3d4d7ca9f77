"""Payment handles in free text: sextortion demands name where the money goes, and rings reuse those accounts."""

from __future__ import annotations

from support import sample_content

from tipline.domain.identifiers import IdentifierKind, PartyRole
from tipline.domain.report import ReportContent
from tipline.linking import ExtractionContext, extract_identifiers
from tipline.linking.payments import find_payment_handles, normalise_payment

# Addresses from the Bitcoin improvement proposals' own examples: the genesis block's Base58Check
# address and BIP 173's P2WPKH Bech32 test vector.
GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
BIP173 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


def values(text: str) -> list[str]:
    return [handle.value for handle in find_payment_handles(text)]


def test_cashtags_are_found_and_amounts_are_not() -> None:
    text = "he wants $300 on Cash App to $Jake_Money99 by Friday, or $50k later, in $USD"
    assert values(text) == ["cashapp:$jake_money99"]


def test_venmo_and_paypal_handles() -> None:
    assert values("send it on venmo to @Quick-Cash-22 now") == ["venmo:quick-cash-22"]
    assert values("pay at https://venmo.com/u/QuickCash22") == ["venmo:quickcash22"]
    assert values("paypal.me/FastPay77 or else") == ["paypal:fastpay77"]
    # an @name with no Venmo nearby is a screen name somewhere, not a payment handle
    assert values("follow me @quick_cash_22") == []


def test_wallet_addresses_need_a_valid_checksum() -> None:
    assert values(f"btc to {GENESIS} tonight") == [f"bitcoin:{GENESIS}"]
    assert values(f"or {BIP173.upper()}") == [f"bitcoin:{BIP173}"]
    broken = GENESIS[:-1] + "b"
    assert values(f"btc to {broken}") == []
    assert values(f"or {BIP173[:-1]}5") == []
    assert values("eth 0x52908400098527886E0F7030069857D2E4169EE7") == [
        "ethereum:0x52908400098527886e0f7030069857d2e4169ee7"]


def test_gift_card_codes_with_their_merchant() -> None:
    assert values("buy a Steam gift card and send me the code ABCD-1234-EFGH-5678") == [
        "giftcard:steam:ABCD1234EFGH5678"]
    # a code-like string with no merchant or card nearby is not taken
    assert values("my order number is ABCD-1234-EFGH-5678") == []


def test_what_a_person_types_into_search_is_normalised_like_the_extractor() -> None:
    assert normalise_payment("$Jake_Money99").value == "cashapp:$jake_money99"
    assert normalise_payment("cashapp:jake_money99").value == "cashapp:$jake_money99"
    assert normalise_payment("venmo:@Quick-Cash-22").value == "venmo:quick-cash-22"
    assert normalise_payment(GENESIS).value == f"bitcoin:{GENESIS}"


def test_free_text_of_a_report_yields_payment_identifiers_of_the_right_party() -> None:
    data = sample_content(publicReport={"description": "He says pay $200 to $Jake_Money99 by Friday 6pm or he sends "
                                                      "the picture to my daughter's school."})
    data["personOrUserReported"][0]["additionalInfo"] = f"asked for bitcoin at {GENESIS}"
    content = ReportContent.model_validate(data)
    payments = {(i.value, i.role, i.path) for i in extract_identifiers(content, ExtractionContext())
                if i.kind == IdentifierKind.PAYMENT}
    assert payments == {
        ("cashapp:$jake_money99", PartyRole.INCIDENT, "publicReport.description"),
        (f"bitcoin:{GENESIS}", PartyRole.REPORTED, "personOrUserReported[0].additionalInfo"),
    }
