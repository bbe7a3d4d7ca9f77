"""The abuse-contact directory's CSV: checked whole, every bad cell named by line and column; and the
contact found for a host (its domain first, then its network)."""

from __future__ import annotations

import pytest
from takedown_support import CONTACTS_CSV

from tipline.takedown.contacts import ContactImportError, contacts_csv, find_contact, parse_contacts_csv


def test_a_good_file_is_read_and_written_back_the_same() -> None:
    records = parse_contacts_csv(CONTACTS_CSV.encode())
    assert [r.code for r in records] == ["example-hosting", "files-desk", "transit"]
    assert records[0].asns == (64501,) and records[0].email == "abuse@hosting.example"
    assert records[1].domain_suffixes == ("files.example",) and records[1].web_form == "https://files.example/abuse"
    assert records[2].asns == (64500, 64510)
    assert parse_contacts_csv(contacts_csv(records)) == records


def test_each_bad_cell_is_named_and_nothing_is_read() -> None:
    text = ("code,name,asn,domain_suffix,email,web_form,country,language,active\n"
            "ok-one,Fine,64500,,abuse@fine.example,,US,en,yes\n"
            "Bad Code,,ASX,,not-an-email,,Narnia,english,maybe\n"
            "ok-one,Twice,,dup.example,,ftp://x,,,\n"
            "no-route,No route,,,abuse@x.example,,,,\n"
            "ok-one,Again,,again.example,abuse@again.example,,,,\n")
    with pytest.raises(ContactImportError) as caught:
        parse_contacts_csv(text)
    problems = {(p.line, p.column) for p in caught.value.problems}
    assert {(3, "code"), (3, "name"), (3, "asn"), (3, "email"), (3, "country"), (3, "language"),
            (3, "active")} <= problems
    assert (4, "web_form") in problems and (6, "code") in problems
    assert (5, "asn") in problems
    assert "line 3, asn: 'ASX' is not an autonomous system number" in str(caught.value)
    assert "'ok-one' is also on line 2" in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("code,name,asn,email,colour\n", "unknown column colour"),
    ("name,asn,email\n", "missing column code"),
    ("code,name,email\n", "a contact is found by asn or domain_suffix"),
    (b"code,name,asn,email\n\xff\xfe,x,1,a@b.example\n", "not UTF-8 text"),
    ("code,name,asn,email\nx1,X,1,a@b.example,extra\n", "5 cells but the header names 4 columns"),
])
def test_a_broken_file_says_what_is_wrong(text: str | bytes, message: str) -> None:
    with pytest.raises(ContactImportError, match=message):
        parse_contacts_csv(text)


def test_the_hosts_own_domain_comes_before_its_network() -> None:
    contacts = parse_contacts_csv(CONTACTS_CSV)
    by_domain = find_contact(contacts, "www.files.example", 64501)
    assert by_domain is not None and by_domain.contact.code == "files-desk"
    assert by_domain.reason == "www.files.example is under files.example"
    by_network = find_contact(contacts, "other.example", 64501)
    assert by_network is not None and by_network.contact.code == "example-hosting"
    assert by_network.reason == "the address is on AS64501"
    assert find_contact(contacts, "notfiles.example", 64999) is None  # a suffix matches whole labels only
