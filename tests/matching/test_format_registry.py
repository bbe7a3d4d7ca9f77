"""The hash-list formats are one module each, listed in one table that reading, writing and guessing use."""

from __future__ import annotations

import io

import pytest

from tipline.matching import SignalType
from tipline.matching.formats import (
    FORMATS,
    HashListFormat,
    HashRecord,
    csv_file,
    guess_format,
    plain,
    read_hash_list,
    threatexchange,
    vics,
    write_hash_list,
)

MD5 = "0123456789abcdef0123456789abcdef"


def test_every_format_has_one_module_in_the_table() -> None:
    assert set(FORMATS) == set(HashListFormat)
    assert FORMATS[HashListFormat.PLAIN] is plain
    assert FORMATS[HashListFormat.CSV] is csv_file
    assert FORMATS[HashListFormat.VICS] is vics
    assert FORMATS[HashListFormat.THREATEXCHANGE] is threatexchange
    for name, module in FORMATS.items():
        assert module.name is name


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("list.csv", "{", HashListFormat.VICS),  # a JSON object beats a .csv name
        ("list.txt", "signal_type,signal_str,collab,category,tags\n", HashListFormat.THREATEXCHANGE),
        ("list.txt", "signal_type,signal_value\n", HashListFormat.CSV),
        ("list.csv", f"md5,{MD5}\n", HashListFormat.THREATEXCHANGE),  # a typed line beats the .csv name
        ("list.csv", f"{MD5}\n", HashListFormat.CSV),
        ("list.txt", f"{MD5}\n", HashListFormat.PLAIN),
    ],
)
def test_the_strongest_claim_wins(filename: str, text: str, expected: HashListFormat) -> None:
    assert guess_format(filename, text.encode()) is expected


def test_a_module_reads_what_it_writes_through_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Spy:
        name = HashListFormat.PLAIN

        def detect(self, filename: str, text: str, first: str) -> int:
            return 0

        def read(self, reader, options):  # type: ignore[no-untyped-def]  # the Format protocol, spied on
            calls.append("read")
            return plain.read(reader, options)

        def write(self, records, out):  # type: ignore[no-untyped-def]  # the Format protocol, spied on
            calls.append("write")
            plain.write(records, out)

    monkeypatch.setitem(FORMATS, HashListFormat.PLAIN, Spy())
    out = io.StringIO()
    assert write_hash_list([HashRecord(SignalType.MD5, MD5)], out, "plain") == 1
    assert read_hash_list(io.BytesIO(out.getvalue().encode()), "plain").records == [HashRecord(SignalType.MD5, MD5)]
    assert calls == ["write", "read"]
