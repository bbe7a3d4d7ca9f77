"""How long a partner hotline's referral package takes to import, against checking it alone.

One tipline refers a report with one large synthetic evidence file (random bytes) to a partner
hotline (a second tipline, in another temporary folder); the partner then checks the package as
`tipline referral verify` does, stores as many other random bytes in its encrypted file store as an
upload would (MD5, SHA-1, SHA-256 and encryption: what every file costs at intake), and imports the
package (`tipline referral import`: the check, then the evidence copied into the encrypted store and
one transaction). Prints the three times and what the import costs beyond a check and an upload.

    .venv/bin/python benchmarks/partner_import.py --evidence-mb 64
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
from pathlib import Path

CONTENT = {
    "incidentSummary": {"incidentType": "Online Enticement of Children for Sexual Acts", "platform": "Chirp",
                        "incidentDateTime": "2026-10-15T08:00:00Z"},
    "reporter": {"reportingPerson": {"firstName": "Trust", "lastName": "Team", "email": ["safety@chirp.example"]}},
}


def run(evidence_mb: int) -> dict[str, float]:
    from tipline.config import load_settings
    from tipline.domain.audit import Actor, ActorType
    from tipline.domain.report import ReportContent, ReportSource
    from tipline.domain.roles import Role
    from tipline.instance import Instance
    from tipline.intake.submission import finish_report, submit_report
    from tipline.pipeline.engine.inprocess import InProcessWorker
    from tipline.referral.importing import import_package
    from tipline.referral.keys import b64, create_agency_key, load_agency_private_key, raw_public, signing_key
    from tipline.referral.package import verify_package
    from tipline.referral.partners import add_partner
    from tipline.referral.service import refer
    from tipline.store.accounts import Principal, api_principal
    from tipline.store.schema import upgrade

    actor = Actor.system("benchmark")
    with tempfile.TemporaryDirectory() as folder:
        def instance_in(name: str) -> Instance:
            built = Instance(load_settings({"TIPLINE_DATA_DIR": str(Path(folder) / name),
                                            "TIPLINE_ARGON2_TIME_COST": "1", "TIPLINE_ARGON2_MEMORY_KIB": "1024"}))
            upgrade(built.db)
            return built

        sender, receiver = instance_in("sender"), instance_in("receiver")
        key_file = Path(folder) / "receiver-package.key"
        package_key = base64.b64encode(create_agency_key(key_file)).decode()
        sender_key = signing_key(sender.settings.key_dir).public_key()
        with receiver.db.transaction() as session:
            add_partner(receiver, session, "us-hotline", b64(raw_public(sender_key)), "US", actor)
        with sender.db.transaction() as session:
            add_partner(sender, session, "nl-partner", b64(raw_public(signing_key(receiver.settings.key_dir)
                                                                    .public_key())), "NL", actor,
                        public_key_text=package_key)
            user, _ = sender.accounts.add_user(session, "ana", Role.ANALYST, actor, password="benchmark passphrase")
            account, _ = sender.accounts.add_api_account(session, "chirp", actor)
            esp = api_principal(account)
            analyst = Principal(actor=Actor(ActorType.USER, str(user.id), user.username), role=Role.ANALYST,
                                user_id=user.id, display_name=user.display_name)
            row = submit_report(sender, session, ReportContent.model_validate(CONTENT), ReportSource.ESP_JSON, esp,
                                finish=False)
            report_id = row.id
            sender.files.add(session, report_id, os.urandom(evidence_mb << 20), file_name="evidence.bin",
                             actor=esp.actor)
            finish_report(sender, session, report_id, esp)
        assert InProcessWorker(sender).drain(timeout=600)
        with sender.db.transaction() as session:
            sender.review.claim(session, report_id, analyst)
        package = refer(sender, report_id, analyst, "nl-partner", reason="benchmark").path

        private = load_agency_private_key(key_file)
        began = time.perf_counter()
        assert verify_package(package, sender_key, private).ok
        checked = time.perf_counter() - began
        other = os.urandom(evidence_mb << 20)
        began = time.perf_counter()
        with receiver.files.writer() as writer:
            for start in range(0, len(other), 1 << 20):
                writer.write(other[start:start + (1 << 20)])
            writer.commit()
        uploaded = time.perf_counter() - began
        began = time.perf_counter()
        import_package(receiver, package, private, actor)
        imported = time.perf_counter() - began
        sender.close()
        receiver.close()
    return {"verify_s": checked, "upload_s": uploaded, "import_s": imported}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--evidence-mb", type=int, default=64, help="size of the synthetic evidence file")
    args = parser.parse_args()
    figures = run(args.evidence_mb)
    base = figures["verify_s"] + figures["upload_s"]
    print(f"sqlite: a package with {args.evidence_mb} MiB of evidence: checked in {figures['verify_s']:.2f} s; "
          f"the same bytes stored as an upload in {figures['upload_s']:.2f} s; imported in {figures['import_s']:.2f} s "
          f"({args.evidence_mb / figures['import_s']:.0f} MiB/s); import / (check + upload) = "
          f"{figures['import_s'] / base:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
