"""The `tipline banks` commands: create and list hash banks, import and export hash lists, add, disable
and enable single entries, keep the victim-identification series registry, and match processed reports
again after the banks changed.

Every change goes through `BankStore`, which audits it and writes the change log, so the web server and
the workers match the new state within a second without being restarted.

Length (a little under 600 lines): one command group; import and export, with their per-format
checks and progress, are most of it. The `series` subgroup and `rematch` are the seam if it grows.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import click
from tqdm import tqdm

from tipline.cli.common import Failure, cli_actor, emit, json_option, open_instance
from tipline.matching import BankEntry, BankKind, SignalError, parse_classification, parse_signal_type
from tipline.matching.formats import (
    HashListFormat,
    HashRecord,
    SkippedLine,
    guess_format,
    iter_hash_list,
    write_hash_list,
)

FORMAT_NAMES = ["plain", "csv", "vics", "te", "threatexchange"]
FORMAT_HELP = ("plain (one hash a line), csv (columns signal_type, signal_value, source, source_id, "
               "classification, series, bank_kind), vics (Project VIC VICS JSON) or te (ThreatExchange/HMA "
               "signal file; also 'threatexchange')")
IMPORT_COMMIT_EVERY = 20_000
"""Entries committed per transaction during an import: a long import never holds the write lock for long."""
SERIES_KINDS = (BankKind.KNOWN_MATERIAL, BankKind.IDENTIFIED_SERIES)
PROGRESS_MIN_BYTES = 1 << 20
PROGRESS_MIN_ENTRIES = 10_000
PROGRESS_MIN_REPORTS = 20
HEAD_BYTES = 64 * 1024

# What each format carries, beyond the signal type and value (see tipline.matching.formats).
CARRIED = {
    HashListFormat.PLAIN: frozenset(),
    HashListFormat.CSV: frozenset({"source", "source_id", "classification", "series"}),
    HashListFormat.VICS: frozenset({"source_id", "series"}),
    HashListFormat.THREATEXCHANGE: frozenset({"source", "classification"}),
}


def _format(name: str) -> HashListFormat:
    return HashListFormat.THREATEXCHANGE if name == "te" else HashListFormat(name)


@contextmanager
def _instance() -> Iterator[Any]:
    """The instance of the environment, closed when the command is done."""
    instance = open_instance()
    try:
        yield instance
    finally:
        instance.close()


@contextmanager
def _bank_errors() -> Iterator[None]:
    """BankStore's and the matching library's refusals as command failures (exit 1, the reason)."""
    from tipline.store.banks import BankError

    try:
        yield
    except (BankError, SignalError) as error:
        raise Failure(str(error)) from None


def _show_progress(flag: bool | None, amount: int | None, threshold: int) -> bool:
    if flag is not None:
        return flag
    return amount is None or amount >= threshold


def _progress_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--progress/--no-progress", "progress", default=None,
                        help="Draw a progress bar on stderr (default: only for large work).")(function)


@click.group("banks")
def banks_group() -> None:
    """Hash banks: lists of known hashes that every report file is matched against.

    A bank has a kind: known_material (confirmed material), identified_series (material of a
    victim-identification series) or ignore (known false positives that silence perceptual
    matches). Changes made here are audited and reach the running server within a second.
    """


# --- banks ---------------------------------------------------------------------------------------


@banks_group.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice([k.value for k in BankKind]),
              help="What a match means: known_material, identified_series, or ignore (known false positives).")
@click.option("--threshold", type=click.IntRange(0, 256), default=31, show_default=True,
              help="PDQ Hamming distance at or below which this bank's PDQ entries match.")
@click.option("--description", default="", help="What the bank holds and where it comes from.")
@json_option
def banks_create(name: str, kind: str, threshold: int, description: str, as_json: bool) -> None:
    """Create a bank named NAME (letters, digits, '_', '.', '-'; up to 100 characters)."""
    with _instance() as instance, _bank_errors(), instance.db.transaction() as session:
        row = instance.banks.create(session, name, kind, cli_actor(), pdq_threshold=threshold,
                                    description=description)
        data = {"name": row.name, "kind": row.kind, "pdq_threshold": row.pdq_threshold,
                "description": row.description}
    emit(as_json, data, f"Created {kind} bank {name} (PDQ threshold {threshold}).")


@banks_group.command("list")
@json_option
def banks_list(as_json: bool) -> None:
    """List the banks with their kind, PDQ threshold and how many entries they hold (and how many are enabled)."""
    with _instance() as instance, instance.db.transaction() as session:
        rows = [{"name": s.bank.name, "kind": s.bank.kind, "pdq_threshold": s.bank.pdq_threshold,
                 "entries": s.entries, "enabled": s.enabled, "description": s.bank.description or ""}
                for s in instance.banks.summaries(session)]

    def text() -> str:
        if not rows:
            return "No banks. Create one with `tipline banks create NAME --kind known_material`."
        width = max(len(r["name"]) for r in rows)
        lines = [f"{'bank':<{width}}  {'kind':<17}  {'pdq':>3}  {'entries':>10}  {'enabled':>10}  description"]
        lines += [f"{r['name']:<{width}}  {r['kind']:<17}  {r['pdq_threshold']:>3}  {r['entries']:>10,}  "
                  f"{r['enabled']:>10,}  {r['description']}" for r in rows]
        return "\n".join(lines)

    emit(as_json, rows, text)


# --- import --------------------------------------------------------------------------------------


class _LineCounter:
    """A binary stream that counts the lines read through it, so that a record the (streaming) reader
    yields can be given the number of the line it came from."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.lines = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            self.lines += 1
            yield line

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def seekable(self) -> bool:
        return self._stream.seekable()

    def tell(self) -> int:
        return self._stream.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)


@dataclass
class _Skip:
    line: int | None
    item: int | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "item": self.item, "reason": self.reason}

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return f"line {self.line}" + (f" (media {self.item})" if self.item is not None else "") + f": {self.reason}"


def _kind_conflict(record: HashRecord, bank_name: str, bank_kind: BankKind) -> str | None:
    """Why a record the file puts in another kind of bank does not belong in this one (None: it does)."""
    if record.bank_kind is None:
        return None
    if (record.bank_kind is BankKind.IGNORE) == (bank_kind is BankKind.IGNORE):
        return None
    if record.bank_kind is BankKind.IGNORE:
        return (f"the file marks it as a known false positive (ignore), and bank {bank_name!r} is {bank_kind.value}: "
                "import the file into an ignore bank for these")
    return (f"the file marks it as {record.bank_kind.value}, and bank {bank_name!r} is an ignore bank, where it "
            "would silence matches")


def _where(record: HashRecord) -> str:
    media = f"MediaID {record.source_id}, " if record.source_id else ""
    return f"{media}{record.signal_type.value} {record.value[:16]}…"


@banks_group.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMAT_NAMES]), default="auto", show_default=True,
              help=f"The file's format: {FORMAT_HELP}; auto guesses from the name and first lines.")
@click.option("--signal-type", default=None,
              help="The signal type of a plain list (or of CSV rows without one): pdq, md5, sha1, sha256, "
                   "video_md5, vpdq. Needed for 64-character values (pdq or sha256).")
@click.option("--source", default=None, help="Provenance for entries whose line names none (e.g. NCMEC).")
@click.option("--vics-category", "vics_categories", type=click.IntRange(0, 3), multiple=True,
              help="VICS categories to import (repeat the option; default 0 and 1: categories 2 and 3 are skipped "
                   "unless named, 4 never). Category 0 belongs in an ignore bank.")
@_progress_option
@json_option
def banks_import(name: str, file: str, fmt: str, signal_type: str | None, source: str | None,
                 vics_categories: tuple[int, ...], progress: bool | None, as_json: bool) -> None:
    """Import the hash list FILE into bank NAME.

    The file is read as a stream and its good lines are added in batches; every line that is not
    imported is reported with its number and the reason (malformed hash, unknown signal type, a
    record the file puts in another kind of bank, ...), and the rest of the file is imported. For
    VICS files, each Series is entered in the series registry, marked identified when its Media say
    VictimIdentified (a series already marked identified is never unmarked by an import).
    Importing a list again adds only what is new: an entry the bank already holds from the same
    source (same signal type, value, source and source id) is counted as already in the bank.

    Exits 1 when the bank does not exist or nothing could be imported from a file with bad lines.
    """
    path = Path(file)
    actor = cli_actor()
    try:
        default_type = parse_signal_type(signal_type) if signal_type else None
        with path.open("rb") as head_file:
            head = head_file.read(HEAD_BYTES)
    except SignalError as error:
        raise Failure(f"--signal-type: {error}") from None
    except OSError as error:
        raise Failure(f"cannot read {file}: {error.strerror}") from None
    kind = guess_format(path.name, head) if fmt == "auto" else _format(fmt)
    size = path.stat().st_size

    with _instance() as instance:
        with _bank_errors(), instance.db.transaction() as session:
            bank_kind = BankKind(instance.banks.bank(session, name).kind)

        skipped: list[_Skip] = []
        batch: list[BankEntry] = []
        series: dict[str, bool] = {}
        imported = 0
        already = 0
        now = BankEntry.now()
        detail = {"file": path.name, "format": kind.value}

        def flush() -> None:
            nonlocal imported, already
            if batch:
                with instance.db.transaction() as session:
                    added = instance.banks.add_entries(session, name, batch, actor, audit_detail=detail,
                                                       skip_existing=True)
                imported += added
                already += len(batch) - added
                batch.clear()

        bar = tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=f"importing {path.name}",
                   file=sys.stderr, disable=not _show_progress(progress, size, PROGRESS_MIN_BYTES))

        def on_progress(done: int, total: int | None) -> None:
            bar.update(done - bar.n)

        with path.open("rb") as raw:
            counter = _LineCounter(raw)
            stream = cast(IO[bytes], counter)  # it reads as the binary stream it wraps, counting lines
            items = iter_hash_list(stream, kind, signal_type=default_type, source_name=source,
                                   vics_categories=vics_categories or (0, 1), progress=on_progress)
            try:
                for item in items:
                    if isinstance(item, SkippedLine):
                        skipped.append(_Skip(item.line, item.item, item.reason))
                        continue
                    conflict = _kind_conflict(item, name, bank_kind)
                    if conflict is not None:
                        if kind is HashListFormat.VICS:  # JSON is not read by lines
                            skipped.append(_Skip(None, None, f"{_where(item)}: {conflict}"))
                        else:
                            skipped.append(_Skip(counter.lines, None, conflict))
                        continue
                    if kind is HashListFormat.VICS and item.series and item.bank_kind in SERIES_KINDS:
                        identified = item.bank_kind is BankKind.IDENTIFIED_SERIES
                        series[item.series] = series.get(item.series, False) or identified
                    batch.append(item.to_entry(name, added_by=actor.name, added_at=now))
                    if len(batch) >= IMPORT_COMMIT_EVERY:
                        flush()
                flush()
            finally:
                bar.close()

        series_result = _register_series(instance, series, actor) if series else {}

    result = {"bank": name, "file": str(path), "format": kind.value, "imported": imported,
              "already_in_bank": already, "skipped": [s.to_dict() for s in skipped], "series": series_result}

    def text() -> str:
        held = f"; {already:,} already in the bank" if already else ""
        lines = [f"Imported {imported:,} entr{'y' if imported == 1 else 'ies'} into bank {name} from {path.name} "
                 f"({kind.value}){held}; skipped {len(skipped):,} line{'' if len(skipped) == 1 else 's'}"
                 + (":" if skipped else ".")]
        lines += [f"  {s}" for s in skipped]
        for state, names in series_result.items():
            if names:
                lines.append(f"Series {state.replace('_', ' ')}: {', '.join(names)}")
        return "\n".join(lines)

    emit(as_json, result, text)
    if imported == 0 and already == 0 and skipped:
        sys.exit(1)


def _register_series(instance: Any, found: dict[str, bool], actor: Any) -> dict[str, list[str]]:
    """Enter an import's series in the registry: new ones as the file says, known ones marked identified
    when the file says so; the registry's 'identified' is never undone by a file."""
    out: dict[str, list[str]] = {"registered": [], "marked_identified": [], "kept_identified": []}
    with instance.db.transaction() as session:
        known = instance.banks.identified_series(session, found)
        for series_name in sorted(found):
            identified = found[series_name]
            if series_name not in known:
                instance.banks.set_series(session, series_name, identified, actor)
                out["registered"].append(series_name)
                if identified:
                    out["marked_identified"].append(series_name)
            elif identified and not known[series_name]:
                instance.banks.set_series(session, series_name, True, actor)
                out["marked_identified"].append(series_name)
            elif known[series_name] and not identified:
                out["kept_identified"].append(series_name)
    return out


# --- export --------------------------------------------------------------------------------------


@banks_group.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(FORMAT_NAMES), default="csv", show_default=True,
              help=f"The format to write: {FORMAT_HELP}. CSV carries all of an entry's provenance.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the list here (default: standard output).")
@click.option("--signal-type", default=None, help="Only entries of this signal type (a plain list holds one).")
@click.option("--include-disabled", is_flag=True,
              help="Also export disabled entries (they are written as ordinary entries: no format has a flag).")
@_progress_option
@json_option
def banks_export(name: str, fmt: str, output: str | None, signal_type: str | None, include_disabled: bool,
                 progress: bool | None, as_json: bool) -> None:
    """Write bank NAME's enabled entries as a hash list.

    Importing the file into a new bank gives the same entries, within what the format carries
    (a warning on stderr names provenance a format cannot hold). A format that cannot hold an entry
    at all (a plain list of two signal types, PDQ hashes in VICS) is refused (with --output, no file is
    left behind).
    The export is audited.
    """
    from sqlalchemy import func, select

    from tipline.store.tables import BankEntryRow

    kind = _format(fmt)
    if as_json and output is None:
        raise Failure("--json prints a summary, so give --output PATH for the list itself")
    try:
        only = parse_signal_type(signal_type) if signal_type else None
    except SignalError as error:
        raise Failure(f"--signal-type: {error}") from None
    with _instance() as instance:
        with _bank_errors(), instance.db.transaction() as session:
            bank = instance.banks.bank(session, name)
            bank_kind = BankKind(bank.kind)
            total = session.execute(select(func.count()).select_from(BankEntryRow)
                                    .where(BankEntryRow.bank_id == bank.id)).scalar_one()
        lost: dict[str, int] = {}
        written = 0
        bar = tqdm(total=total, unit=" entries", desc=f"exporting {name}", file=sys.stderr,
                   disable=output is None or not _show_progress(progress, total, PROGRESS_MIN_ENTRIES))

        def records(session: Any) -> Iterator[HashRecord]:
            for entry in instance.banks.entries(session, name):
                if (not entry.enabled and not include_disabled) or (only is not None and entry.signal_type is not only):
                    continue
                for field in ("source", "source_id", "classification", "series"):
                    if getattr(entry, field) and field not in CARRIED[kind]:
                        lost[field] = lost.get(field, 0) + 1
                yield HashRecord.from_entry(entry, bank_kind)

        target = Path(output) if output else None
        partial = target.with_name(target.name + ".partial") if target else None
        try:
            with instance.db.transaction() as session:
                if partial is not None:
                    with partial.open("w", encoding="utf-8", newline="") as out:
                        written = write_hash_list(records(session), out, kind, progress=lambda n: bar.update(n - bar.n))
                else:
                    written = write_hash_list(records(session), sys.stdout, kind)
                    sys.stdout.flush()
                instance.audit.append(session, cli_actor(), "bank.exported",
                                      details={"bank": name, "format": kind.value, "entries": written,
                                               "output": str(target) if target else "stdout"})
        except ValueError as error:
            if partial is not None:
                partial.unlink(missing_ok=True)
            advice = " (export as csv, or choose one --signal-type)" if kind is HashListFormat.PLAIN else ""
            raise Failure(f"bank {name} cannot be written as {fmt}: {error}{advice}") from None
        finally:
            bar.close()
        if partial is not None and target is not None:
            partial.replace(target)
    if lost:
        fields = ", ".join(f"{field} of {count:,} entr{'y' if count == 1 else 'ies'}" for field, count in lost.items())
        click.echo(f"warning: the {kind.value} format does not carry {fields}; export as csv to keep them",
                   err=True)
    if target is not None:
        emit(as_json, {"bank": name, "format": kind.value, "output": str(target), "written": written,
                           "not_carried": lost},
                 f"Wrote {written:,} entr{'y' if written == 1 else 'ies'} of bank {name} to {target} ({kind.value}).")


# --- single entries ------------------------------------------------------------------------------


@banks_group.command("add")
@click.argument("name")
@click.argument("signal_type")
@click.argument("value")
@click.option("--classification", default=None, help="A1, A2, B1 or B2 (the industry classification), or none.")
@click.option("--series", default=None, help="The victim-identification series the entry belongs to.")
@click.option("--source", default=None, help="Where the hash comes from (e.g. NCMEC, a case number).")
@click.option("--source-id", default=None, help="The source's own id for it.")
@json_option
def banks_add(name: str, signal_type: str, value: str, classification: str | None, series: str | None,
              source: str | None, source_id: str | None, as_json: bool) -> None:
    """Add one entry to bank NAME: SIGNAL_TYPE is pdq, md5, sha1, sha256, video_md5 or vpdq; VALUE its hash
    (hex; for vpdq a JSON list of "pdq,quality,seconds"). It matches within a second."""
    actor = cli_actor()
    try:
        entry = BankEntry(bank=name, signal_type=parse_signal_type(signal_type), value=value, source=source,
                          source_id=source_id, classification=parse_classification(classification), series=series,
                          added_by=actor.name, added_at=BankEntry.now())
    except (SignalError, ValueError) as error:
        raise Failure(f"malformed entry: {error}") from None
    ids: list[int] = []
    with _instance() as instance, _bank_errors(), instance.db.transaction() as session:
        instance.banks.add_entries(session, name, [entry], actor, ids_out=ids)
    data = {"entry_id": ids[0], "bank": name, "signal_type": entry.signal_type.value, "value": entry.value,
            "classification": entry.classification.value if entry.classification else None,
            "series": entry.series, "source": entry.source, "source_id": entry.source_id}
    emit(as_json, data, f"Added entry {ids[0]} to bank {name}: {entry.signal_type.value} {entry.value}")


def _set_enabled(entry_id: int, enabled: bool, as_json: bool) -> None:
    from tipline.store.tables import BankRow

    with _instance() as instance, _bank_errors(), instance.db.transaction() as session:
        row = instance.banks.set_enabled(session, entry_id, enabled, cli_actor())
        bank = session.get(BankRow, row.bank_id).name
        data = {"entry_id": entry_id, "bank": bank, "signal_type": row.signal_type, "value": row.value,
                "enabled": row.enabled}
    emit(as_json, data, f"Entry {entry_id} of bank {bank} is {'enabled' if enabled else 'disabled'}.")


@banks_group.command("disable")
@click.argument("entry_id", type=int)
@json_option
def banks_disable(entry_id: int, as_json: bool) -> None:
    """Stop bank entry ENTRY_ID matching (within a second); it is kept and can be enabled again."""
    _set_enabled(entry_id, False, as_json)


@banks_group.command("enable")
@click.argument("entry_id", type=int)
@json_option
def banks_enable(entry_id: int, as_json: bool) -> None:
    """Let the disabled bank entry ENTRY_ID match again (within a second)."""
    _set_enabled(entry_id, True, as_json)


# --- series ----------------------------------------------------------------------------------------


@banks_group.group("series")
def series_group() -> None:
    """The victim-identification series registry: whether each series' victim has been identified.

    A file matching an entry of an unidentified series is a lead for victim identification; triage
    weighs it accordingly.
    """


@series_group.command("set")
@click.argument("name")
@click.option("--identified/--unidentified", required=True, help="Whether the series' victim has been identified.")
@click.option("--notes", default="", help="A note kept with the series (case, agency, date).")
@json_option
def series_set(name: str, identified: bool, notes: str, as_json: bool) -> None:
    """Mark series NAME as identified or unidentified (registering it if it is new)."""
    with _instance() as instance, _bank_errors(), instance.db.transaction() as session:
        row = instance.banks.set_series(session, name, identified, cli_actor(), notes)
        data = {"series": row.name, "identified": row.identified, "notes": row.notes}
    emit(as_json, data, f"Series {data['series']} is {'identified' if identified else 'not identified'}.")


# --- rematch ---------------------------------------------------------------------------------------


@banks_group.command("rematch")
@click.option("--report", "report_ids", type=int, multiple=True,
              help="Only this report (repeat the option for several); default: every report already matched.")
@_progress_option
@json_option
def banks_rematch(report_ids: tuple[int, ...], progress: bool | None, as_json: bool) -> None:
    """Match the files of reports already processed against the banks as they are now, and score
    the reports again: run it after a large import so that older reports find the new entries."""
    from sqlalchemy import select

    from tipline.pipeline.stages.match_files import match_report_files
    from tipline.pipeline.stages.score_priority import rescore
    from tipline.store.tables import FileMatchRow, ReportRow
    from tipline.victims.sightings import record_series_sightings


    def hits(session: Any, report_id: int) -> set[tuple[str, int | None]]:
        return {(m.file_id, m.entry_id) for m in session.execute(
            select(FileMatchRow).where(FileMatchRow.report_id == report_id, FileMatchRow.suppressed.is_(False),
                                       FileMatchRow.bank_kind != BankKind.IGNORE.value)).scalars()}

    with _instance() as instance:
        with instance.db.transaction() as session:
            query = select(ReportRow.id, ReportRow.files_matched_at).order_by(ReportRow.id)
            if report_ids:
                found = dict(session.execute(query.where(ReportRow.id.in_(report_ids))).all())
                for report_id in report_ids:
                    if report_id not in found:
                        raise Failure(f"report {report_id} does not exist")
                    if found[report_id] is None:
                        raise Failure(f"report {report_id} has not been through the match_files stage yet "
                                          "(the pipeline will match it)")
                ids = sorted(set(report_ids))
            else:
                ids = list(session.execute(
                    select(ReportRow.id).where(ReportRow.files_matched_at.is_not(None)).order_by(ReportRow.id)
                ).scalars())
        changed: list[dict[str, int]] = []
        bar = tqdm(total=len(ids), unit=" reports", desc="rematching", file=sys.stderr,
                   disable=not _show_progress(progress, len(ids), PROGRESS_MIN_REPORTS))
        try:
            for report_id in ids:
                with instance.db.transaction() as session:
                    before = hits(session, report_id)
                    match_report_files(instance, session, report_id)
                    record_series_sightings(instance, session, report_id)  # notifications, victim-ID queue
                    after = hits(session, report_id)
                    if session.get(ReportRow, report_id).priority is not None:
                        rescore(instance, session, report_id, "rematch")
                if after != before:
                    changed.append({"report_id": report_id, "hits_before": len(before), "hits": len(after),
                                    "new_hits": len(after - before)})
                bar.update(1)
        finally:
            bar.close()
        with instance.db.transaction() as session:
            instance.audit.append(session, cli_actor(), "banks.rematched",
                                  details={"reports": len(ids), "changed": len(changed)})
    data = {"reports": len(ids), "changed": changed}

    def text() -> str:
        lines = [f"Matched the files of {len(ids):,} report{'' if len(ids) == 1 else 's'} again; "
                 f"{len(changed):,} changed" + (":" if changed else ".")]
        lines += [f"  report {c['report_id']}: {c['hits_before']} -> {c['hits']} hits ({c['new_hits']} new)"
                  for c in changed]
        return "\n".join(lines)

    emit(as_json, data, text)

