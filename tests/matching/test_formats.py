"""Hash-list files: every format reads back what it wrote, and every bad line is skipped with a precise reason."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipline.matching import BankEntry, BankKind, Classification, SignalType
from tipline.matching.formats import (
    HashListFormat,
    HashRecord,
    guess_format,
    iter_hash_list,
    read_hash_list,
    write_hash_list,
)

MD5 = "0123456789abcdef0123456789abcdef"
SHA1 = "0123456789abcdef0123456789abcdef01234567"
PDQ = "f8f8f0cce0f4e84d0e370a22028f67f0b36e2ed596623e1d33e6339c4e9c9b22"
SHA256 = "ab" * 32
VPDQ = json.dumps([PDQ + ",100,0.000", "00" * 32 + ",40,1.000"])


def roundtrip(records: list[HashRecord], fmt: str, **read: object) -> list[HashRecord]:
    out = io.StringIO()
    assert write_hash_list(records, out, fmt) == len(records)
    result = read_hash_list(io.BytesIO(out.getvalue().encode("utf-8")), fmt, **read)  # type: ignore[arg-type]
    assert result.skipped == []
    return result.records


def reasons(text: str, fmt: str, **read: object) -> list[str]:
    result = read_hash_list(io.BytesIO(text.encode("utf-8")), fmt, **read)  # type: ignore[arg-type]
    return [str(s) for s in result.skipped]


# --- round trips --------------------------------------------------------------------------------

hex_text = st.integers(min_value=0)


def _hex_of(length: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=16**length - 1).map(lambda v: f"{v:0{length}x}")


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"), min_size=1, max_size=20
).map(str.strip).filter(bool)
_signal = st.one_of(
    st.tuples(st.just(SignalType.MD5), _hex_of(32)),
    st.tuples(st.just(SignalType.SHA1), _hex_of(40)),
    st.tuples(st.just(SignalType.SHA256), _hex_of(64)),
    st.tuples(st.just(SignalType.PDQ), _hex_of(64)),
    st.tuples(st.just(SignalType.VIDEO_MD5), _hex_of(32)),
    st.tuples(st.just(SignalType.VPDQ), st.just(VPDQ)),
)
_records = st.lists(
    st.builds(
        lambda sig, source, source_id, classification, series, kind: HashRecord(
            sig[0], sig[1], source, source_id, classification, series, kind
        ),
        _signal,
        st.none() | _text,
        st.none() | _text,
        st.none() | st.sampled_from(list(Classification)),
        st.none() | _text,
        st.none() | st.sampled_from(list(BankKind)),
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(_records)
def test_csv_carries_everything(records: list[HashRecord]) -> None:
    assert roundtrip(records, "csv") == records


@settings(max_examples=60, deadline=None)
@given(_records)
def test_threatexchange_carries_type_value_source_classification_and_kind(records: list[HashRecord]) -> None:
    carried = [
        HashRecord(
            r.signal_type,
            r.value,
            source=r.source,
            classification=r.classification,
            bank_kind=BankKind.KNOWN_MATERIAL if r.bank_kind is BankKind.IDENTIFIED_SERIES else r.bank_kind,
        )
        for r in records
    ]
    assert roundtrip(carried, "threatexchange") == carried


@pytest.mark.parametrize(
    ("signal_type", "value", "read_as"),
    [
        (SignalType.MD5, MD5, None),  # recognised by length
        (SignalType.SHA1, SHA1, None),
        (SignalType.PDQ, PDQ, "pdq"),
        (SignalType.SHA256, SHA256, "sha256"),
        (SignalType.VIDEO_MD5, MD5, "video_md5"),
        (SignalType.VPDQ, VPDQ, "vpdq"),
    ],
)
def test_plain_lists_carry_values(signal_type: SignalType, value: str, read_as: str | None) -> None:
    records = [HashRecord(signal_type, value, source="file.txt")] * 3
    assert roundtrip(records, "plain", signal_type=read_as, source_name="file.txt") == records


def test_plain_lists_hold_one_signal_type() -> None:
    with pytest.raises(ValueError, match="a plain list holds one signal type; got md5 and sha1"):
        write_hash_list([HashRecord(SignalType.MD5, MD5), HashRecord(SignalType.SHA1, SHA1)], io.StringIO(), "plain")


_vics_record = st.builds(
    lambda sig, source_id, series, kind: HashRecord(sig[0], sig[1], "Project VIC", source_id, None, series, kind),
    st.one_of(st.tuples(st.just(SignalType.MD5), _hex_of(32)), st.tuples(st.just(SignalType.SHA1), _hex_of(40))),
    st.none() | _text | st.integers(min_value=0, max_value=10**12).map(str),
    st.none() | _text,
    st.none() | st.sampled_from(list(BankKind)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_vics_record, max_size=12))
def test_vics_carries_md5_sha1_media_id_series_and_kind(records: list[HashRecord]) -> None:
    assert roundtrip(records, "vics", source_name="Project VIC") == records


def test_vics_keeps_an_md5_and_its_sha1_in_one_media() -> None:
    records = [
        HashRecord(SignalType.MD5, MD5, None, "17", None, "Blue Room", BankKind.IDENTIFIED_SERIES),
        HashRecord(SignalType.SHA1, SHA1, None, "17", None, "Blue Room", BankKind.IDENTIFIED_SERIES),
        HashRecord(SignalType.MD5, "f" * 32, None, "018", None, None, BankKind.IGNORE),
    ]
    out = io.StringIO()
    write_hash_list(records, out, "vics")
    document = json.loads(out.getvalue())
    assert document["odata.metadata"].endswith("#Media")
    assert document["value"] == [
        {"MediaID": 17, "Category": 1, "MD5": MD5.upper(), "SHA1": SHA1.upper(), "Series": "Blue Room",
         "VictimIdentified": "true"},
        {"MediaID": "018", "Category": 0, "MD5": "F" * 32},
    ]
    assert roundtrip(records, "vics") == records


def test_vics_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(ValueError, match="VICS carries md5 and sha1 only, not pdq"):
        write_hash_list([HashRecord(SignalType.PDQ, PDQ)], io.StringIO(), "vics")
    with pytest.raises(ValueError, match="no A1/A2/B1/B2 classification"):
        write_hash_list([HashRecord(SignalType.MD5, MD5, classification=Classification.A1)], io.StringIO(), "vics")


def test_entries_export_and_import_through_records(tmp_path: Path) -> None:
    entry = BankEntry("ncmec", "pdq", PDQ, source="NCMEC", source_id="x-1", classification="B1", series="S")
    record = HashRecord.from_entry(entry, BankKind.KNOWN_MATERIAL)
    path = tmp_path / "bank.csv"
    write_hash_list([record], path, "csv")
    (back,) = read_hash_list(path, "csv").records
    again = back.to_entry("other-bank", added_by="importer")
    assert (again.bank, again.value, again.source, again.source_id, again.classification, again.series) == (
        "other-bank", PDQ, "NCMEC", "x-1", Classification.B1, "S",
    )
    assert again.added_by == "importer" and again.added_at is not None and again.added_at.tzinfo is not None


# --- bad lines ----------------------------------------------------------------------------------


def test_plain_list_errors_name_the_line() -> None:
    text = "\n".join(
        [
            "# a comment",
            MD5,
            MD5[:-1],
            "",
            MD5[:5] + "x" + MD5[6:],
            "a" * 64,
            "a" * 10,
            SHA1.upper(),
        ]
    )
    result = read_hash_list(io.BytesIO(text.encode()), "plain")
    assert [(r.signal_type, r.value) for r in result.records] == [(SignalType.MD5, MD5), (SignalType.SHA1, SHA1)]
    assert [str(s) for s in result.skipped] == [
        "line 3: cannot tell the signal type of a 31-character value (md5 has 32, sha1 40, pdq and sha256 64)",
        "line 5: md5 hash must be hex; character 6 is 'x'",
        "line 6: a 64-character value could be pdq or sha256; give the signal type",
        "line 7: cannot tell the signal type of a 10-character value (md5 has 32, sha1 40, pdq and sha256 64)",
    ]
    assert reasons(PDQ + "\n" + PDQ[:-1] + "\n", "plain", signal_type="pdq") == [
        "line 2: pdq hash must be 64 hex characters, got 63"
    ]


def test_lines_that_are_not_utf8_are_skipped_and_the_rest_read() -> None:
    data = MD5.encode() + b"\n\xff\xfe\n" + SHA1.encode() + b"\n"
    result = read_hash_list(io.BytesIO(data), "plain")
    assert [r.value for r in result.records] == [MD5, SHA1]
    assert [str(s) for s in result.skipped] == ["line 2: not UTF-8 text"]


def test_csv_errors_name_the_line() -> None:
    text = (
        "\ufeffsignal_type,signal_value,source,source_id,classification,series\n"
        f"md5,{MD5},NCMEC,1,A1,\n"
        f"md5,{MD5},NCMEC,2,X9,\n"
        f"sha512,{MD5},NCMEC,3,,\n"
        f"pdq,{PDQ[:-1]},NCMEC,4,,\n"
        f"md5,{MD5},NCMEC\n"
        f",{SHA1},,5,b2,\"Series, with comma\"\n"
        f"md5,,NCMEC,6,,\n"
        f"pdq,{PDQ},,7,,,\n"
    )
    result = read_hash_list(io.BytesIO(text.encode()), "csv")
    assert [(r.signal_type, r.source_id, r.classification, r.series) for r in result.records] == [
        (SignalType.MD5, "1", Classification.A1, None),
        (SignalType.SHA1, "5", Classification.B2, "Series, with comma"),
    ]
    assert [str(s) for s in result.skipped] == [
        "line 3: classification must be A1, A2, B1, B2 or none, got 'X9'",
        "line 4: unknown signal type 'sha512' (known: pdq, md5, sha1, sha256, video_md5, vpdq)",
        "line 5: pdq hash must be 64 hex characters, got 63",
        "line 6: expected 6 fields, got 3",
        "line 8: the signal_value is empty",
        "line 9: expected 6 fields, got 7",
    ]


def test_csv_needs_a_signal_value_column() -> None:
    assert reasons(f"type,hash_value\nmd5,{MD5}\n", "csv") == [
        "line 1: the CSV header must name a signal_value column (found: type, hash_value); the file was not read"
    ]


def test_csv_bank_kinds_and_quoted_multiline_fields() -> None:
    text = (
        "value,bank_kind,series\n"
        f"{MD5},ignore,\"two\nlines\"\n"
        f"{SHA1},sometimes,\n"
        f"{MD5},known_material,\"unterminated\n"
    )
    result = read_hash_list(io.StringIO(text), "csv")
    assert [(r.bank_kind, r.series) for r in result.records] == [(BankKind.IGNORE, "two\nlines")]
    assert [str(s) for s in result.skipped] == [
        "line 4: bank kind must be one of known_material, identified_series, ignore, got 'sometimes'",
        "line 5: malformed CSV: unexpected end of data",
    ]


def test_threatexchange_files_in_their_three_shapes() -> None:
    text = (
        f"pdq {PDQ}\n"  # python-threatexchange's local file exchange
        f"video_md5,{MD5}\n"  # HMA signal rows
        f"pdq,{PDQ},My Collab,NEGATIVE_CLASS,a2 other\n"  # threatexchange dataset --csv
        f"url,https://example.org\n"
        f"pdq,{PDQ},c,SOMETHING,\n"
        f"pdq\n"
    )
    result = read_hash_list(io.StringIO(text), "threatexchange", source_name="file")
    assert [(r.signal_type, r.source, r.bank_kind, r.classification) for r in result.records] == [
        (SignalType.PDQ, "file", None, None),
        (SignalType.VIDEO_MD5, "file", None, None),
        (SignalType.PDQ, "My Collab", BankKind.IGNORE, Classification.A2),
    ]
    assert [str(s) for s in result.skipped] == [
        "line 4: unknown signal type 'url' (known: pdq, md5, sha1, sha256, video_md5, vpdq)",
        "line 5: category must be POSITIVE_CLASS, NEGATIVE_CLASS or INVESTIGATION_SEED, got 'SOMETHING'",
        "line 6: expected signal_type,signal_value",
    ]
    header = f"signal_type,signal_str,collab,category,tags\nmd5,{MD5},c,POSITIVE_CLASS,\n"
    assert [r.bank_kind for r in read_hash_list(io.StringIO(header), "threatexchange").records] == [
        BankKind.KNOWN_MATERIAL
    ]


VICS_DOC = """{
  "odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
  "value": [
    {"MediaID": 1, "Category": 1, "MD5": "%(md5)s", "SHA1": "%(sha1)s", "VictimIdentified": "false"},
    {"MediaID": 2, "Category": "1", "MD5": "%(md5_short)s",
     "SHA1": "%(sha1)s", "Series": "Blue Room", "VictimIdentified": true},
    {"MediaID": 3, "Category": 0, "MD5": "%(md5)s"},
    {"MediaID": 4, "Category": 2, "MD5": "%(md5)s"},
    {"MediaID": 5, "Category": 4, "MD5": "%(md5)s"},
    {"MediaID": 6, "Category": 9, "MD5": "%(md5)s"},
    {"MediaID": 7, "Category": 1},
    "not a media",
    {"MediaID": 8, "Category": 1, "MD5": "%(md5)s", "VictimIdentified": "maybe"},
    {"MediaID": 9, "MD5": "%(md5)s", "PhotoDNA": "ignored"}
  ]
}
""" % {"md5": MD5.upper(), "sha1": SHA1, "md5_short": MD5[:-1]}


def test_vics_media_errors_and_category_mapping() -> None:
    result = read_hash_list(io.StringIO(VICS_DOC), "vics", source_name="Project VIC")
    assert [(r.signal_type, r.source_id, r.bank_kind, r.series) for r in result.records] == [
        (SignalType.MD5, "1", BankKind.KNOWN_MATERIAL, None),
        (SignalType.SHA1, "1", BankKind.KNOWN_MATERIAL, None),
        (SignalType.SHA1, "2", BankKind.IDENTIFIED_SERIES, "Blue Room"),
        (SignalType.MD5, "3", BankKind.IGNORE, None),
        (SignalType.MD5, "9", None, None),
    ]
    assert all(r.source == "Project VIC" and r.value in (MD5, SHA1) for r in result.records)
    assert [str(s) for s in result.skipped] == [
        "line 5 (media 2): md5 hash must be 32 hex characters, got 31",
        "line 8 (media 4): Category 2 (child exploitive (not CAM) / age difficult) is not imported unless asked for",
        "line 9 (media 5): Category 4 (comparison images) is never imported",
        "line 10 (media 6): Category must be a number 0 to 4, got 9",
        "line 11 (media 7): the Media has no MD5 or SHA1",
        "line 12 (media 8): a Media must be a JSON object",
        "line 13 (media 9): VictimIdentified must be true or false, got 'maybe'",
    ]
    wider = read_hash_list(io.StringIO(VICS_DOC), "vics", vics_categories={1, 2})
    assert [(r.source_id, r.bank_kind) for r in wider.records if r.source_id in ("3", "4")] == [
        ("4", BankKind.KNOWN_MATERIAL)
    ]


def test_vics_bad_json_skips_one_media_and_reads_on() -> None:
    good = f'{{"MediaID": 1, "Category": 1, "MD5": "{MD5}"}}'
    broken = f'{{"MediaID": 2, "Category": 1 "MD5": "{MD5}"}}'
    text = '{"value": [\n' + good + ",\n" + broken + ",\n" + good.replace("1,", "3,", 1) + "\n]}"
    result = read_hash_list(io.StringIO(text), "vics")
    assert [r.source_id for r in result.records] == ["1", "3"]
    assert [str(s) for s in result.skipped] == ["line 3 (media 2): invalid JSON: Expecting ',' delimiter"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "line 1: expected '{', found '['; the rest of the file was not read"),
        ('{"odata.metadata": "x"}', 'line 1: the VICS file has no "value" list of Media'),
        ("{}", 'line 1: the VICS file has no "value" list of Media'),
        ('{"value": 5}', "line 1: expected '[', found '5'; the rest of the file was not read"),
        ("", "line 1: expected '{', found the end of the file; the rest of the file was not read"),
    ],
)
def test_vics_files_that_are_not_vics(text: str, message: str) -> None:
    assert reasons(text, "vics") == [message]


def test_a_truncated_vics_file_keeps_what_came_before() -> None:
    text = '{"value": [\n' + f'{{"MediaID": 1, "MD5": "{MD5}"}},\n{{"MediaID": 2, "MD5": "{MD5[:20]}'
    result = read_hash_list(io.BytesIO(text.encode()), "vics")
    assert [r.source_id for r in result.records] == ["1"]
    assert [str(s) for s in result.skipped] == [
        "line 3 (media 2): invalid JSON: Unterminated string starting at",
        "line 3: the Media list is not closed; the rest of the file was not read",
    ]


# --- streaming and progress ---------------------------------------------------------------------


class CountingStream(io.RawIOBase):
    """A binary stream that records how far it has been read."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)
        self.size = len(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._inner.readinto(buffer)

    @property
    def position(self) -> int:
        return self._inner.tell()


def _big(fmt: str, n: int) -> bytes:
    records = [HashRecord(SignalType.MD5, f"{i:032x}", source_id=str(i)) for i in range(n)]
    out = io.StringIO()
    write_hash_list(records, out, fmt)
    return out.getvalue().encode()


@pytest.mark.parametrize("fmt", list(HashListFormat))
def test_readers_stream_instead_of_loading_the_whole_file(fmt: HashListFormat) -> None:
    data = _big(fmt, 60_000)  # 2.5 to 6 MB
    stream = CountingStream(data)
    items = iter_hash_list(io.BufferedReader(stream), fmt, signal_type="md5" if fmt == "plain" else None)
    first = next(items)
    assert isinstance(first, HashRecord) and first.value == "0" * 32
    assert stream.position < stream.size // 2
    assert sum(1 for _ in items) == 60_000 - 1


def test_progress_reports_bytes_read_up_to_the_file_size(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(_big("csv", 20_000))
    seen: list[tuple[int, int | None]] = []
    result = read_hash_list(path, "csv", progress=lambda done, total: seen.append((done, total)))
    assert len(result.records) == 20_000
    assert len(seen) > 5
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)
    written: list[int] = []
    write_hash_list(result.records, io.StringIO(), "csv", progress=written.append)
    assert written[-1] == 20_000


def test_format_guessing() -> None:
    assert guess_format("list.json", b"") is HashListFormat.VICS
    assert guess_format("x", b'  {"odata.metadata": ') is HashListFormat.VICS
    assert guess_format("x.csv", b"signal_type,signal_str,collab,category,tags\n") is HashListFormat.THREATEXCHANGE
    assert guess_format("x.txt", f"pdq {PDQ}\n".encode()) is HashListFormat.THREATEXCHANGE
    assert guess_format("x.txt", f"md5,{MD5}\n".encode()) is HashListFormat.THREATEXCHANGE
    assert guess_format("x.csv", b"signal_type,signal_value,source\n") is HashListFormat.CSV
    assert guess_format("hashes.txt", f"{MD5}\n{MD5}\n".encode()) is HashListFormat.PLAIN
