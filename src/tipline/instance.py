"""One running tipline: its settings, database, keys and the services every entry point shares."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.orm import Session

from tipline.config import Settings, load_settings
from tipline.keyfiles import load_or_create_key
from tipline.media.blobstore import EncryptedBlobStore
from tipline.pipeline.engine.jobs import PENDING_JOB_IDS, JobStore
from tipline.statefiles import secure_state
from tipline.store.accounts import Accounts
from tipline.store.audit import AUDIT_PENDING, CHECKPOINT_FILE, AuditLog, AuditSealer
from tipline.store.banks import BankStore, MatcherSync
from tipline.store.db import Database
from tipline.store.exchanges import ExchangeStore
from tipline.store.files import FileStore
from tipline.store.identifiers import IdentifierStore
from tipline.store.reports import ReportStore
from tipline.store.review import ReviewStore
from tipline.store.series import SeriesStore
from tipline.store.totp import SecondFactors, required_roles


class Instance:
    """Built once per process (web server, worker, command) from the settings."""

    def __init__(self, settings: Settings | None = None, *, database: Database | None = None,
                 tighten_permissions: bool = False) -> None:
        """Refuses to start (StatePermissionError) when group or others can read the state on disk;
        `tighten_permissions` (db upgrade, demo) changes their modes instead, listed in `tightened`."""
        self.settings = settings or load_settings()
        self.tightened = secure_state(self.settings, tighten=tighten_permissions)
        self.db = database or Database(self.settings)
        self.secret_key = load_or_create_key(self.settings.key_dir / "secret.key")
        self.audit = AuditLog(load_or_create_key(self.settings.key_dir / "audit.key"))
        self.audit_sealer = AuditSealer(self.audit, self.db)
        self.second_factors = SecondFactors(self.audit, self.settings.key_dir,
                                            required_roles(self.settings.extra.get("TIPLINE_TOTP_REQUIRED_ROLES")))
        self.accounts = Accounts(
            self.audit,
            PasswordHasher(time_cost=self.settings.argon2_time_cost, memory_cost=self.settings.argon2_memory_kib),
            self.second_factors,
        )
        self.reports = ReportStore(self.audit)
        self.identifiers = IdentifierStore(self.audit)
        self.review = ReviewStore(self.audit, self.reports)
        self.banks = BankStore(self.audit)
        self.matching = MatcherSync()
        self.series = SeriesStore(self.audit)
        self.exchanges = ExchangeStore(self.audit, self.banks, self.settings.key_dir)
        from tipline.victims.cluster_index import ClusterIndex

        self.clusters = ClusterIndex()
        self.files = FileStore(
            EncryptedBlobStore.from_key_file(self.settings.file_store_dir, self.settings.key_dir / "files.key"),
            self.audit,
            self.reports,
        )
        self.jobs = JobStore(
            self.settings.job_lease_seconds, self.settings.job_max_attempts, self.settings.job_retry_seconds
        )
        self._job_listeners: list[Callable[[list[int]], None]] = []
        self._lock = threading.Lock()
        event.listen(self.db.sessions, "after_commit", self._after_commit)
        if self.db.dialect == "sqlite":
            event.listen(self.db.sessions, "before_commit", self._seal_before_commit)
        event.listen(self.db.sessions, "after_soft_rollback", self._after_rollback)
        # The job backend that hands committed jobs to workers elsewhere, if any: the entry point (the
        # command line, the web application) connects it (tipline.pipeline.engine.backend), not the instance.
        self.dispatcher: Any = None

    def on_jobs_committed(self, listener: Callable[[list[int]], None]) -> None:
        """Call `listener(job_ids)` after each commit that queued pipeline jobs (workers wake on it)."""
        with self._lock:
            self._job_listeners.append(listener)

    @property
    def audit_checkpoints_path(self) -> Path:
        """Where the periodic signed checkpoints of the audit chain's head are appended."""
        return self.settings.data_dir / CHECKPOINT_FILE

    def _seal_before_commit(self, session: Session) -> None:
        """SQLite: chain the transaction's audit events in the same commit (the writer holds the
        database's lock already; a separate sealing would cost a commit of its own)."""
        if session.info.pop(AUDIT_PENDING, None):
            self.audit.seal_in_transaction(session)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(AUDIT_PENDING, None):
            self.audit_sealer.committed()
        job_ids = session.info.pop(PENDING_JOB_IDS, None)
        if job_ids:
            for listener in list(self._job_listeners):
                listener(job_ids)

    @staticmethod
    def _after_rollback(session: Session, _previous: Any) -> None:
        session.info.pop(PENDING_JOB_IDS, None)
        # AUDIT_PENDING stays: a savepoint's rollback (this event fires for those too) does not undo
        # the events written before it, and a sealing that finds nothing to seal costs little.

    def close(self) -> None:
        self.audit_sealer.stop()
        self.db.dispose()
