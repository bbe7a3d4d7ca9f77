"""The `tipline export` commands: reports in other formats."""

from __future__ import annotations

import sys

import click

from tipline.cli.common import Failure, cli_actor, open_instance


@click.group()
def export() -> None:
    """Export reports in other formats (to forward them to NCMEC or another hotline)."""


@export.command("cybertipline")
@click.argument("report_id", type=int)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the <report> document here instead of to standard output.")
@click.option("--with-file-details", is_flag=True,
              help="Also write each file's <fileDetails> next to --output, as OUTPUT_STEM.file-FILEID.xml.")
def export_cybertipline(report_id: int, output: str | None, with_file_details: bool) -> None:
    """Write a report as a CyberTipline <report> document that validates against the XSD.
    The read is audited as a report read by the command line."""
    from pathlib import Path

    from tipline.cybertipline.export import export_report
    from tipline.store.reports import ReportNotFound

    if with_file_details and output is None:
        raise Failure("--with-file-details writes several documents: give --output PATH for the report")
    instance = open_instance()
    try:
        with instance.db.transaction() as session:
            exported = export_report(instance, session, report_id, cli_actor(), with_file_details=with_file_details)
    except ReportNotFound:
        raise Failure(f"report {report_id} does not exist") from None
    if output is None:
        sys.stdout.buffer.write(exported.report_xml)
        return
    target = Path(output)
    target.write_bytes(exported.report_xml)
    written = [str(target)]
    for file_id, document in exported.file_details_xml.items():
        path = target.with_name(f"{target.stem}.file-{file_id}.xml")
        path.write_bytes(document)
        written.append(str(path))
    click.echo("Wrote " + ", ".join(written), err=True)
