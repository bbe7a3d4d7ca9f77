"""The `tipline audit` commands: verify and checkpoint the hash-chained audit trail."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tipline.cli.common import emit, json_option, open_instance


@click.group()
def audit() -> None:
    """Check the hash-chained audit trail."""


@audit.command("verify")
@click.option("--expect-head", metavar="HASH",
              help="A head hash kept outside the database (printed by an earlier verify or checkpoint): "
                   "exit 1 unless the chain's head is it or the chain contains it.")
@click.option("--checkpoints", "checkpoints_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Checkpoint file to compare the chain with (default: audit-checkpoints.log in the data directory).")
@json_option
def audit_verify(expect_head: str | None, checkpoints_path: Path | None, as_json: bool) -> None:
    """Verify every event's seals, the chain's order, its sealed head, that every report has its
    events and that the chain agrees with the signed checkpoints kept outside the database.
    Exits 0 when intact, 1 naming each problem when tampered with (and 2 on a usage error)."""
    instance = open_instance()
    checkpoints = instance.audit.read_checkpoints(checkpoints_path or instance.audit_checkpoints_path)
    with instance.db.read_session() as session:  # intake carries on while the chain is walked
        result = instance.audit.verify(session, checkpoints=checkpoints, expect_head=expect_head)
    lines = [f"Checked {result.checked} events and {result.checkpoints} checkpoints; "
             f"head is event {result.head_seq} ({result.head_hash})."]
    if result.unsealed:
        lines.append(f"{result.unsealed} newer events are not chained yet (the oldest from "
                     f"{result.oldest_unsealed_at:%Y-%m-%d %H:%M:%S} UTC); their content seals were checked.")
    lines += ["The audit chain is intact."] if result.ok else [f"TAMPERED: {p.message}" for p in result.problems]
    emit(as_json, result.to_dict(), "\n".join(lines))
    if not result.ok:
        sys.exit(1)


@audit.command("checkpoint")
@json_option
def audit_checkpoint(as_json: bool) -> None:
    """Seal waiting events and append a signed checkpoint of the chain's head to the checkpoint file
    (the periodic maintenance does this every few minutes); prints it. Copy it somewhere else too."""
    from tipline.store.audit import write_checkpoint

    instance = open_instance()
    instance.audit.seal_pending(instance.db)
    line = write_checkpoint(instance.audit, instance.db, instance.audit_checkpoints_path)
    with instance.db.read_session() as session:
        current = line or instance.audit.checkpoint_line(session)
    emit(as_json, current, lambda: "No events yet." if current is None else
         f"Head is event {current['seq']} ({current['hash']}); newest report {current['reports']}.")
