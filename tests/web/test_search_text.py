"""Text search as analysts use it (the /search page), on SQLite and PostgreSQL: text is found as
written in any script and case, and what an analyst types means itself (% and _ are no wildcards,
quotes are quotes)."""

from __future__ import annotations

import re

from support import sample_content
from websupport import Site, file_report


def found(site: Site, query: str) -> set[int]:
    page = site.signed_in("analyst").get("/search", params={"q": query})
    assert page.status_code == 200, page.text
    return {int(n) for n in re.findall(r'href="/reports/(\d+)"', page.text)}


def with_info(site: Site, text: str) -> int:
    return file_report(site, sample_content(additionalInfo=text))


def test_text_in_any_script_is_found_as_written_and_in_any_case(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    zoe = with_info(site, "The account belongs to Zoë from the drama club.")
    nandu = with_info(site, "Profile picture of a Ñandú at the zoo.")
    omega = with_info(site, "Group chat named Ωmega Squad.")
    plain = with_info(site, "Nothing special here.")
    assert found(site, "Zoë") == {zoe}
    assert found(site, "ZOË") == {zoe}
    assert found(site, "zoë") == {zoe}
    assert found(site, "ñandú") == {nandu}
    assert found(site, "ÑANDÚ") == {nandu}
    assert found(site, "ωmega squad") == {omega}
    assert found(site, "Ωmega") == {omega}
    assert found(site, "nothing special") == {plain}


def test_wildcards_and_quotes_in_the_query_mean_themselves(site_on_each_backend: Site) -> None:
    site = site_on_each_backend
    percent = with_info(site, "He said he was 100% sure.")
    thousand = with_info(site, "He messaged 1000 times.")
    underscore = with_info(site, "The handle was a_c.")
    letters = with_info(site, "The handle was abc.")
    quoted = with_info(site, 'The bio says "call me" in capitals.')
    assert found(site, "%") == {percent}
    assert found(site, "100%") == {percent}
    assert thousand not in found(site, "100%")
    assert found(site, "a_c") == {underscore}
    assert letters not in found(site, "_")
    assert found(site, '"call me"') == {quoted}
    assert found(site, "was abc") == {letters}
