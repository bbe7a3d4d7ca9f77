"""Clusters of unidentified material: a report's files that match no bank and are identical to (same
SHA-256 or MD5) or within the PDQ threshold of files in other reports join those files' cluster.
Clusters are ranked by how often and how widely they recur and by the apparent age of the child in
the files' annotations; a specialist promotes one to a series (its hashes join the series' bank and
its reports are matched again) or dismisses it with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tipline.domain.audit import Actor
from tipline.domain.base import utc_now
from tipline.matching import BankEntry, SignalType, VpdqFrame, format_vpdq
from tipline.store.referrals import ReportJurisdictionRow
from tipline.store.tables import ApiAccount, FileMatchRow, ReportFileRow, ReportRow
from tipline.store.victim_tables import ClusterFileRow, MediaClusterRow
from tipline.victims.cluster_index import ClusterIndex, usable_hashes

if TYPE_CHECKING:
    from tipline.instance import Instance
    from tipline.store.audit import AuditLog


class ClusteringContext(Protocol):
    """What placing a report's files in clusters reads and writes: the index of reported media and the
    audit trail."""

    @property
    def clusters(self) -> ClusterIndex: ...

    @property
    def audit(self) -> AuditLog: ...

CLUSTER_ACTOR = Actor.system("pipeline:clusters")
MEDIA_KINDS = ("image", "video")
MAX_CANDIDATES = 1000
MAX_REASON = 2000
YOUNGEST_POINTS = {"infant": 40, "prepubescent": 25, "pubescent": 5}
STATUSES = ("open", "promoted", "dismissed")

__all__ = ["ClusterError", "ClusterIndex", "cluster_report_files", "clusters_page", "describe_cluster",
           "dismiss_cluster", "promote_cluster"]


class ClusterError(ValueError):
    """A cluster operation that cannot be done, and why (nothing was changed)."""


@dataclass(frozen=True)
class Candidate:
    file_id: str
    report_id: int
    basis: str
    distance: int


def _unmatched(session: Session, file_ids: list[str]) -> set[str]:
    """Of these files, those no bank entry matched (matched material is not unidentified)."""
    matched: set[str] = set()
    for start in range(0, len(file_ids), 500):
        matched.update(session.execute(select(FileMatchRow.file_id).where(
            FileMatchRow.file_id.in_(file_ids[start:start + 500]))).scalars())
    return set(file_ids) - matched


def cluster_report_files(instance: ClusteringContext, session: Session, report_id: int) -> None:
    """Put the report's unmatched image and video files in the clusters of their near-identical files
    in other reports, then add them to the index of reported media."""
    files = list(session.execute(select(ReportFileRow).where(
        ReportFileRow.report_id == report_id, ReportFileRow.hashed_at.is_not(None),
        ReportFileRow.media_kind.in_(MEDIA_KINDS)).order_by(ReportFileRow.position)).scalars())
    if not files:
        return
    index = instance.clusters.ready(session)
    perceptual = {h.file_id: h for h in usable_hashes(session, files)}
    fresh = _unmatched(session, [f.id for f in files])
    touched: set[int] = set()
    for file in files:
        if file.id not in fresh:
            continue
        found: dict[str, Candidate] = {}
        exact = [c for c in (ReportFileRow.sha256 == file.sha256 if file.sha256 else None,
                             ReportFileRow.md5 == file.md5 if file.md5 else None) if c is not None]
        if exact:
            for other_id, other_report, sha256 in session.execute(
                select(ReportFileRow.id, ReportFileRow.report_id, ReportFileRow.sha256)
                .where(or_(*exact), ReportFileRow.report_id != report_id, ReportFileRow.media_kind.in_(MEDIA_KINDS))
                .limit(MAX_CANDIDATES)
            ).all():
                found[other_id] = Candidate(other_id, other_report, "sha256" if sha256 == file.sha256 else "md5", 0)
        if file.id in perceptual:
            basis = "pdq" if file.media_kind == "image" else "vpdq"
            for near in index.near(perceptual[file.id].hashes, exclude_report=report_id)[:MAX_CANDIDATES]:
                found.setdefault(near.file_id, Candidate(near.file_id, near.report_id, basis, near.distance))
        if not found:
            continue
        known = _unmatched(session, list(found))  # and which still exist (the index may hold a rolled-back file)
        existing = set(session.execute(select(ReportFileRow.id).where(ReportFileRow.id.in_(list(known)))).scalars())
        candidates = [c for c in found.values() if c.file_id in existing]
        if candidates:
            touched.add(_join(instance, session, file, candidates))
    for cluster_id in touched:
        refresh_cluster(session, cluster_id)
    index.add(perceptual.values())


def _join(instance: ClusteringContext, session: Session, file: ReportFileRow, candidates: list[Candidate]) -> int:
    """Put `file` and its candidates in one cluster (the oldest of theirs; open clusters they are in are
    merged into it); returns the cluster's id."""
    ids = [c.file_id for c in candidates] + [file.id]
    membership = dict(session.execute(select(ClusterFileRow.file_id, ClusterFileRow.cluster_id)
                                      .where(ClusterFileRow.file_id.in_(ids))).all())
    now = utc_now()
    clusters = {c.id: c for c in session.execute(select(MediaClusterRow).where(
        MediaClusterRow.id.in_(set(membership.values())))).scalars()}
    if clusters:
        target = min(clusters.values(), key=lambda c: (c.status != "open", c.id))
        for other in clusters.values():
            if other.id != target.id and other.status == "open" and target.status == "open":
                session.execute(update(ClusterFileRow).where(ClusterFileRow.cluster_id == other.id)
                                .values(cluster_id=target.id))
                session.execute(delete(MediaClusterRow).where(MediaClusterRow.id == other.id))
                instance.audit.append(session, CLUSTER_ACTOR, "cluster.merged",
                                      details={"cluster_id": target.id, "merged": other.id})
    else:
        target = MediaClusterRow(status="open", files=0, reports=0, providers=0, countries=0, score=0,
                                 created_at=now, updated_at=now)
        session.add(target)
        session.flush()
        instance.audit.append(session, CLUSTER_ACTOR, "cluster.created", report_id=file.report_id,
                              details={"cluster_id": target.id})
    best = min(candidates, key=lambda c: c.distance)
    for member_id, report_id, basis, distance in [*((c.file_id, c.report_id, c.basis, c.distance) for c in candidates),
                                                  (file.id, file.report_id, best.basis, best.distance)]:
        if member_id not in membership:
            session.add(ClusterFileRow(file_id=member_id, cluster_id=target.id, report_id=report_id, basis=basis,
                                       distance=distance, joined_at=now))
            membership[member_id] = target.id
    session.flush()
    instance.audit.append(session, CLUSTER_ACTOR, "cluster.file_joined", report_id=file.report_id,
                          details={"cluster_id": target.id, "file_id": file.id, "basis": best.basis,
                                   "distance": best.distance})
    return target.id


def _youngest(file: ReportFileRow) -> str | None:
    details = file.details or {}
    annotations = details.get("fileAnnotations") or details.get("file_annotations") or {}
    if isinstance(annotations, dict) and annotations.get("infant"):
        return "infant"
    classification = (file.reviewed_classification or details.get("industryClassification")
                      or details.get("industry_classification") or "")
    if isinstance(classification, str) and classification.startswith("A"):
        return "prepubescent"
    if isinstance(classification, str) and classification.startswith("B"):
        return "pubescent"
    return None


def refresh_cluster(session: Session, cluster_id: int) -> None:
    """Recount a cluster's figures (files, reports, providers, countries, span, youngest) and its score."""
    cluster = session.get(MediaClusterRow, cluster_id)
    if cluster is None:
        return
    members = list(session.execute(
        select(ReportFileRow, ReportRow.received_at, ReportRow.api_account_id, ReportRow.source,
               ReportJurisdictionRow.resolution)
        .join(ClusterFileRow, ClusterFileRow.file_id == ReportFileRow.id)
        .join(ReportRow, ReportRow.id == ReportFileRow.report_id)
        .outerjoin(ReportJurisdictionRow, ReportJurisdictionRow.report_id == ReportRow.id)
        .where(ClusterFileRow.cluster_id == cluster_id)).all())
    reports = {m[0].report_id for m in members}
    providers = {m[2] if m[2] is not None else m[3] for m in members}
    countries = {((m[4] or {}).get("best") or {}).get("country") for m in members} - {None}
    seen = [m[1] for m in members if m[1] is not None]
    ages = {_youngest(m[0]) for m in members} - {None}
    youngest = next((a for a in YOUNGEST_POINTS if a in ages), None)
    cluster.files, cluster.reports, cluster.providers, cluster.countries = (len(members), len(reports), len(providers),
                                                                            len(countries))
    cluster.first_seen, cluster.last_seen = (min(seen), max(seen)) if seen else (None, None)
    cluster.youngest = youngest
    span_days = (max(seen) - min(seen)).days if seen else 0
    cluster.score = (10 * len(reports) + 8 * len(providers) + 8 * len(countries) + min(span_days, 365) // 30
                     + (YOUNGEST_POINTS[youngest] if youngest else 0))
    cluster.updated_at = utc_now()


# --- reading ---------------------------------------------------------------------------------------


def clusters_page(session: Session, *, status: str = "open", limit: int = 50,
                  offset: int = 0) -> tuple[list[MediaClusterRow], int]:
    if status not in STATUSES:
        raise ClusterError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    total = session.execute(select(func.count()).select_from(MediaClusterRow)
                            .where(MediaClusterRow.status == status)).scalar_one()
    rows = list(session.execute(select(MediaClusterRow).where(MediaClusterRow.status == status)
                                .order_by(MediaClusterRow.score.desc(), MediaClusterRow.id).limit(limit)
                                .offset(offset)).scalars())
    return rows, int(total)


def get_cluster(session: Session, cluster_id: int) -> MediaClusterRow:
    row = session.get(MediaClusterRow, cluster_id)
    if row is None:
        raise LookupError(f"cluster {cluster_id} does not exist")
    return row


def cluster_members(session: Session, cluster_id: int) -> list[tuple[ClusterFileRow, ReportFileRow]]:
    return [(c, f) for c, f in session.execute(
        select(ClusterFileRow, ReportFileRow).join(ReportFileRow, ReportFileRow.id == ClusterFileRow.file_id)
        .where(ClusterFileRow.cluster_id == cluster_id).order_by(ClusterFileRow.report_id, ReportFileRow.position)
    ).all()]


def describe_cluster(session: Session, cluster: MediaClusterRow, *, with_files: bool = False) -> dict[str, Any]:
    """The cluster as the CLI and API give it (no media, only hashes and where they were reported)."""
    members = cluster_members(session, cluster.id)
    report_ids = sorted({c.report_id for c, _ in members})
    providers = sorted({name or ("public form" if source == "public_form" else "unknown")
                        for name, source in session.execute(
                            select(ApiAccount.display_name, ReportRow.source)
                            .outerjoin(ApiAccount, ApiAccount.id == ReportRow.api_account_id)
                            .where(ReportRow.id.in_(report_ids))).all()}) if report_ids else []
    data: dict[str, Any] = {
        "id": cluster.id, "status": cluster.status, "files": cluster.files, "reports": report_ids,
        "providers": providers, "countries": cluster.countries, "youngest": cluster.youngest,
        "first_seen": cluster.first_seen.isoformat() if cluster.first_seen else None,
        "last_seen": cluster.last_seen.isoformat() if cluster.last_seen else None, "score": cluster.score,
        "series_id": cluster.series_id, "reason": cluster.reason,
    }
    if with_files:
        data["members"] = [{"file_id": f.id, "report_id": c.report_id, "media_kind": f.media_kind, "md5": f.md5,
                            "sha256": f.sha256, "pdq": f.pdq, "basis": c.basis, "distance": c.distance}
                           for c, f in members]
    return data


# --- deciding --------------------------------------------------------------------------------------


def promote_cluster(instance: Instance, cluster_id: int, actor: Actor, *, series_name: str,
                    create: bool) -> dict[str, Any]:
    """Make an open cluster a new series (`create`) or add it to an existing one: its files' hashes
    join the series' bank (provenance: the cluster and file), then its reports are matched again."""
    from tipline.store.series import SeriesNotFound
    from tipline.store.tables import FileSignalRow

    with instance.db.transaction() as session:
        cluster = get_cluster(session, cluster_id)
        if cluster.status != "open":
            raise ClusterError(f"cluster {cluster_id} was already {cluster.status}")
        if create:
            series = instance.series.create(session, series_name, actor, notes=f"Promoted from cluster {cluster_id}.")
        else:
            try:
                series = instance.series.find(session, series_name)
            except SeriesNotFound as error:
                raise ClusterError(str(error)) from None
        members = cluster_members(session, cluster_id)
        entries: list[BankEntry] = []
        now = utc_now()
        for _member, file in members:
            def entry(kind: SignalType, value: str, file_id: str = file.id) -> BankEntry:
                return BankEntry(bank="", signal_type=kind, value=value, source=f"cluster {cluster_id}",
                                 source_id=file_id, series=series.name, added_by=actor.name, added_at=now)

            if file.sha256:
                entries.append(entry(SignalType.SHA256, file.sha256))
            if file.md5:
                entries.append(entry(SignalType.MD5, file.md5))
            if file.pdq:
                entries.append(entry(SignalType.PDQ, file.pdq))
            frames = [VpdqFrame(s.value, s.quality or 0, (s.timestamp_ms or 0) / 1000, s.frame_number)
                      for s in session.execute(select(FileSignalRow).where(
                          FileSignalRow.file_id == file.id, FileSignalRow.signal_type == "vpdq_frame")
                          .order_by(FileSignalRow.id)).scalars()]
            if frames:
                entries.append(entry(SignalType.VPDQ, format_vpdq(frames)))
        added = instance.series.add_media(session, series, entries, actor, instance.banks,
                                          detail={"cluster_id": cluster_id})
        cluster.status, cluster.series_id, cluster.decided_by, cluster.decided_at = "promoted", series.id, actor.name, now
        instance.audit.append(session, actor, "cluster.promoted", details={
            "cluster_id": cluster_id, "series": series.name, "series_id": series.id, "entries": added})
        report_ids = sorted({m.report_id for m, _ in members})
        result = {"cluster": cluster_id, "series": series.name, "series_id": series.id, "entries_added": added,
                  "reports": report_ids}
    rematch_reports(instance, report_ids)
    return result


def rematch_reports(instance: Instance, report_ids: list[int]) -> None:
    """Match these reports' files again (after their hashes joined a bank), note series sightings, rescore."""
    from tipline.pipeline.stages.match_files import match_report_files
    from tipline.pipeline.stages.score_priority import rescore
    from tipline.victims.sightings import record_series_sightings

    with instance.db.transaction() as session:
        instance.matching.matcher(session, fresh=True)
    for report_id in report_ids:
        with instance.db.transaction() as session:
            row = session.get(ReportRow, report_id)
            if row is None or row.files_matched_at is None:
                continue
            match_report_files(instance, session, report_id)
            record_series_sightings(instance, session, report_id)
            if row.priority is not None:
                rescore(instance, session, report_id, "series")


def dismiss_cluster(instance: Instance, session: Session, cluster_id: int, reason: str, actor: Actor) -> MediaClusterRow:
    reason = reason.strip()
    if not reason:
        raise ClusterError("say why the cluster is dismissed (--reason)")
    if len(reason) > MAX_REASON:
        raise ClusterError(f"a reason is at most {MAX_REASON} characters")
    cluster = get_cluster(session, cluster_id)
    if cluster.status != "open":
        raise ClusterError(f"cluster {cluster_id} was already {cluster.status}")
    cluster.status, cluster.reason, cluster.decided_by, cluster.decided_at = "dismissed", reason, actor.name, utc_now()
    instance.audit.append(session, actor, "cluster.dismissed", details={"cluster_id": cluster_id, "reason": reason})
    return cluster
