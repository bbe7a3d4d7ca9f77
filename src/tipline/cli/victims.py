"""`tipline series ...` and `tipline clusters ...`: the victim-identification series registry and the
clusters of unidentified material, from the shell. Every command takes --json."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from tipline.cli import common


@contextmanager
def _errors() -> Iterator[None]:
    """Registry and cluster errors become a clear message and exit status 1 (nothing was changed)."""
    from tipline.domain.victims import VictimRecordError
    from tipline.store.banks import BankError
    from tipline.store.series import SeriesError, SeriesNotFound
    from tipline.victims.clusters import ClusterError
    from tipline.victims.media import MediaHashError

    try:
        yield
    except (SeriesError, SeriesNotFound, VictimRecordError, MediaHashError, ClusterError, BankError,
            LookupError) as error:
        raise common.Failure(str(error).strip("'\"")) from None


@contextmanager
def _instance() -> Iterator[Any]:
    instance = common.open_instance()
    try:
        yield instance
    finally:
        instance.close()


def _summary(session: Any, instance: Any, row: Any) -> dict[str, Any]:
    data = instance.series.describe(session, row)
    return {key: data[key] for key in ("id", "name", "aliases", "status", "identified_by", "case_reference")} | {
        "report_count": row.report_count, "last_seen": data["last_seen"]}


# --- series ----------------------------------------------------------------------------------------


@click.group("series")
def series_group() -> None:
    """The victim-identification series registry.

    A series is a set of pictures and videos of the same child or children. Its status says whether
    law enforcement has identified the child (unidentified, under_investigation, identified), and
    which agency did. Its media are hash-bank entries naming it: when a new report matches them, the
    identifying agency is notified (identified series) or the report joins the victim-identification
    queue (the others). Victims are recorded by pseudonym only.
    """


@series_group.command("list")
@click.option("--query", "-q", default="", help="Only series whose name or an alias contains this text.")
@click.option("--status", type=click.Choice(["unidentified", "under_investigation", "identified"]), default=None)
@click.option("--sort", type=click.Choice(["last_seen", "reports", "name"]), default="last_seen", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
@common.json_option
def series_list(query: str, status: str | None, sort: str, limit: int, as_json: bool) -> None:
    """List series, the most recently seen first."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        rows, total = instance.series.listing(session, query=query, status=status, sort=sort, limit=limit)
        data = [_summary(session, instance, row) for row in rows]
        instance.audit.append(session, common.cli_actor(), "series.listed", details={"count": len(data)})

    def text() -> str:
        if not data:
            return "No series."
        lines = [f"{total:,} series" + (f" ({len(data)} shown)" if len(data) < total else "") + ":"]
        lines += [f"  {d['name']:<30} {d['status']:<20} {d['identified_by'] or '':<12} "
                  f"{d['report_count']:>6} reports  last seen {d['last_seen'] or 'never'}" for d in data]
        return "\n".join(lines)

    common.emit(as_json, data, text)


@series_group.command("create")
@click.argument("name")
@click.option("--notes", default="", help="A note kept with the series.")
@click.option("--status", type=click.Choice(["unidentified", "under_investigation"]), default="unidentified",
              show_default=True, help="Identified series are marked with `identify`, which names the agency.")
@common.json_option
def series_create(name: str, notes: str, status: str, as_json: bool) -> None:
    """Register a new series NAME."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.create(session, name, common.cli_actor(), notes=notes, status=status)
        data = {"id": row.id, "name": row.name, "status": row.status}
    common.emit(as_json, data, f"Series {data['name']} registered ({data['status'].replace('_', ' ')}).")


@series_group.command("show")
@click.argument("name")
@common.json_option
def series_show(name: str, as_json: bool) -> None:
    """Everything about series NAME (or an alias): status, agency, victims, media, reports, notifications."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.find(session, name)
        data = instance.series.describe(session, row)
        instance.audit.append(session, common.cli_actor(), "series.viewed", details={"series": row.name,
                                                                                  "series_id": row.id})

    def text() -> str:
        lines = [f"Series {data['name']} (#{data['id']}): {data['status'].replace('_', ' ')}"]
        if data["aliases"]:
            lines.append(f"  also known as: {', '.join(data['aliases'])}")
        if data["identified_by"]:
            lines.append(f"  identified by {data['identified_by']} on {data['identified_at']}"
                         + (f", case {data['case_reference']}" if data["case_reference"] else ""))
        lines.append(f"  victims: {len(data['victims'])}; media entries: {len(data['media'])}; "
                     f"seen in {len(data['reports'])} report(s): {', '.join(map(str, data['reports'])) or 'none'}")
        lines += [f"  notified {n['agency']} of report {n['report_id']}" for n in data["notifications"]]
        return "\n".join(lines)

    common.emit(as_json, data, text)


@series_group.command("identify")
@click.argument("name")
@click.option("--agency", "agency_code", default="", help="The code of the agency that identified the child "
                                                           "(required; see `tipline agencies list`).")
@click.option("--case", "case_reference", default=None, help="The agency's case reference.")
@common.json_option
def series_identify(name: str, agency_code: str, case_reference: str | None, as_json: bool) -> None:
    """Mark series NAME identified by an agency: reports that match it from now on notify that agency."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.identify(session, instance.series.find(session, name), agency_code, common.cli_actor(),
                                       case_reference=case_reference)
        data = _summary(session, instance, row)
    common.emit(as_json, data, f"Series {data['name']} is identified by {data['identified_by']}.")


@series_group.command("status")
@click.argument("name")
@click.argument("status", type=click.Choice(["unidentified", "under_investigation"]))
@common.json_option
def series_status(name: str, status: str, as_json: bool) -> None:
    """Set series NAME unidentified or under investigation (use `identify` to mark it identified)."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.set_status(session, instance.series.find(session, name), status, common.cli_actor())
        data = _summary(session, instance, row)
    common.emit(as_json, data, f"Series {data['name']} is {status.replace('_', ' ')}.")


@series_group.command("merge")
@click.argument("source")
@click.argument("target")
@common.json_option
def series_merge(source: str, target: str, as_json: bool) -> None:
    """Merge series SOURCE into TARGET (SOURCE's name becomes an alias of TARGET)."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        merged = instance.series.merge(session, instance.series.find(session, source),
                                       instance.series.find(session, target), common.cli_actor())
        data = _summary(session, instance, merged)
    common.emit(as_json, data, f"Merged {source} into {data['name']}; aliases: {', '.join(data['aliases'])}.")


@series_group.command("rename")
@click.argument("name")
@click.argument("new_name")
@common.json_option
def series_rename(name: str, new_name: str, as_json: bool) -> None:
    """Rename series NAME to NEW_NAME, keeping NAME as an alias."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.rename(session, instance.series.find(session, name), new_name, common.cli_actor())
        data = _summary(session, instance, row)
    common.emit(as_json, data, f"Series {name} is now {data['name']} ({name} kept as an alias).")


@series_group.command("split")
@click.argument("name")
@click.argument("new_name")
@click.option("--entry", "entry_ids", type=click.IntRange(1, 2**63 - 1), multiple=True,
              help="A bank entry of NAME to move (repeat; see `tipline series show NAME`).")
@common.json_option
def series_split(name: str, new_name: str, entry_ids: tuple[int, ...], as_json: bool) -> None:
    """Move some of series NAME's media to a new series NEW_NAME."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.split(session, instance.series.find(session, name), new_name, list(entry_ids),
                                    common.cli_actor(), instance.banks)
        data = _summary(session, instance, row)
    common.emit(as_json, data, f"Split {len(entry_ids)} entries of {name} into new series {data['name']}.")


@series_group.command("add-media")
@click.argument("name")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--bank", default=None, help="The bank to add the hashes to (default: victim-series, created "
                                           "as an identified_series bank when missing).")
@common.json_option
def series_add_media(name: str, files: tuple[Path, ...], bank: str | None, as_json: bool) -> None:
    """Hash FILES (pictures or videos) into series NAME's bank: MD5, SHA-1, SHA-256, PDQ, vPDQ.

    Every file is hashed before anything is added: one that cannot be read or hashed stops the
    command with nothing changed. Reports already processed find the new entries after
    `tipline banks rematch`.
    """
    from tipline.store.series import SERIES_BANK
    from tipline.victims.media import hash_files

    actor = common.cli_actor()
    with _errors():
        entries = hash_files(list(files), added_by=actor.name)
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        row = instance.series.find(session, name)
        added = instance.series.add_media(session, row, entries, actor, instance.banks, bank=bank or SERIES_BANK,
                                          detail={"files": len(files)})
        data = {"series": row.name, "bank": bank or SERIES_BANK, "files": len(files), "entries_added": added,
                "entries_already_held": len(entries) - added}
    common.emit(as_json, data, f"Added {added} hash{'' if added == 1 else 'es'} of {len(files)} file(s) to series "
                            f"{data['series']} (bank {data['bank']}).")


@series_group.command("add-victim")
@click.argument("name")
@click.option("--pseudonym", required=True, help="A pseudonym (never a real name or contact detail).")
@click.option("--sex", type=click.Choice(["female", "male", "unknown"]), default="unknown", show_default=True)
@click.option("--age-band", type=click.Choice(["0-2", "3-5", "6-9", "10-12", "13-15", "16-17", "unknown"]),
              default="unknown", show_default=True, help="Apparent age when the material was produced.")
@click.option("--status", type=click.Choice(["unidentified", "identified", "safeguarded"]), default="unidentified",
              show_default=True)
@common.json_option
def series_add_victim(name: str, pseudonym: str, sex: str, age_band: str, status: str, as_json: bool) -> None:
    """Record a victim of series NAME, pseudonymously."""
    with _instance() as instance, _errors(), instance.db.transaction() as session:
        victim = instance.series.add_victim(session, instance.series.find(session, name), common.cli_actor(),
                                            pseudonym=pseudonym, sex=sex, age_band=age_band, status=status)
        data = {"id": victim.id, "pseudonym": victim.pseudonym, "sex": victim.sex, "age_band": victim.age_band,
                "status": victim.status}
    common.emit(as_json, data, f"Victim {data['pseudonym']} recorded.")


@series_group.command("queue")
@click.option("--all", "include_reviewed", is_flag=True, help="Include appearances already reviewed.")
@common.json_option
def series_queue(include_reviewed: bool, as_json: bool) -> None:
    """The victim-identification queue: new reports in which an unidentified series appeared."""
    from tipline.victims.sightings import victim_id_queue

    with _instance() as instance, instance.db.transaction() as session:
        data = [{"id": q.id, "series": s.name, "series_id": s.id, "report_id": r.id,
                 "queued_at": q.created_at.isoformat(), "reviewed_at": q.reviewed_at.isoformat() if q.reviewed_at
                 else None} for q, s, r in victim_id_queue(session, include_reviewed=include_reviewed)]
        instance.audit.append(session, common.cli_actor(), "series.queue_viewed", details={"count": len(data)})
    common.emit(as_json, data, lambda: "\n".join(f"  series {d['series']}: report {d['report_id']} ({d['queued_at']})"
                                              for d in data) or "The victim-identification queue is empty.")


# --- clusters --------------------------------------------------------------------------------------


@click.group("clusters")
def clusters_group() -> None:
    """Clusters of unidentified material: near-identical files in several reports, matching no bank.

    Ranked by how often and how widely they recur (reports, providers, countries, time span) and by
    the child's apparent age in the files' annotations. Promote one to a series or dismiss it.
    """


@clusters_group.command("list")
@click.option("--status", type=click.Choice(["open", "promoted", "dismissed"]), default="open", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@common.json_option
def clusters_list(status: str, limit: int, as_json: bool) -> None:
    """List clusters, the highest ranked first."""
    from tipline.victims.clusters import clusters_page, describe_cluster

    with _instance() as instance, _errors(), instance.db.transaction() as session:
        rows, total = clusters_page(session, status=status, limit=limit)
        data = [describe_cluster(session, row) for row in rows]
        instance.audit.append(session, common.cli_actor(), "cluster.listed", details={"count": len(data)})

    def text() -> str:
        if not data:
            return f"No {status} cluster."
        return "\n".join([f"{total:,} {status} cluster(s):"] + [
            f"  #{d['id']:<6} score {d['score']:>4}  {d['files']} files in {len(d['reports'])} reports from "
            f"{', '.join(d['providers'])}; {d['first_seen']} to {d['last_seen']}" for d in data])

    common.emit(as_json, data, text)


@clusters_group.command("show")
@click.argument("cluster_id", type=click.IntRange(1, 2**63 - 1))
@common.json_option
def clusters_show(cluster_id: int, as_json: bool) -> None:
    """One cluster with its files' hashes and reports (never the media)."""
    from tipline.victims.clusters import describe_cluster, get_cluster

    with _instance() as instance, _errors(), instance.db.transaction() as session:
        data = describe_cluster(session, get_cluster(session, cluster_id), with_files=True)
        instance.audit.append(session, common.cli_actor(), "cluster.viewed", details={"cluster_id": cluster_id})
    common.emit(as_json, data, lambda: "\n".join(
        [f"Cluster #{data['id']} ({data['status']}), score {data['score']}: reports "
         f"{', '.join(map(str, data['reports']))}"]
        + [f"  report {m['report_id']} file {m['file_id']} ({m['media_kind']}, {m['basis']} distance {m['distance']})"
           for m in data["members"]]))


@clusters_group.command("promote")
@click.argument("cluster_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--new-series", "new_series", default=None, help="Create a series of this name for the cluster.")
@click.option("--series", "series", default=None, help="Add the cluster to this existing series.")
@common.json_option
def clusters_promote(cluster_id: int, new_series: str | None, series: str | None, as_json: bool) -> None:
    """Make cluster CLUSTER_ID a series: its hashes join the series' bank and its reports are matched again."""
    from tipline.victims.clusters import promote_cluster

    if bool(new_series) == bool(series):
        raise common.Failure("give either --new-series NAME or --series NAME")
    with _instance() as instance, _errors():
        data = promote_cluster(instance, cluster_id, common.cli_actor(), series_name=new_series or series or "",
                               create=bool(new_series))
    common.emit(as_json, data, f"Cluster #{cluster_id} is now part of series {data['series']} "
                            f"({data['entries_added']} hashes added; {len(data['reports'])} reports matched again).")


@clusters_group.command("dismiss")
@click.argument("cluster_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--reason", required=True, help="Why it is not new material of a child (kept with the cluster).")
@common.json_option
def clusters_dismiss(cluster_id: int, reason: str, as_json: bool) -> None:
    """Dismiss cluster CLUSTER_ID with a reason."""
    from tipline.victims.clusters import describe_cluster, dismiss_cluster

    with _instance() as instance, _errors(), instance.db.transaction() as session:
        data = describe_cluster(session, dismiss_cluster(instance, session, cluster_id, reason, common.cli_actor()))
    common.emit(as_json, data, f"Cluster #{cluster_id} dismissed.")
