"""Committing a public submission's encrypted files: all of them, or none left behind.

The form reader encrypts each file into a temporary ciphertext as it streams in. A submission that is
accepted (a new report, an addition, files held across a refusal) commits them to the blob store and
then registers them in one database transaction; if that transaction fails, the ciphertext it added
is deleted again unless another stored file already refers to the same content.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from tipline.instance import Instance
from tipline.media.blobstore import StoredBlob
from tipline.store.tables import BlobRow
from tipline.web.public_form.upload import Attachment, SubmittedForm


@contextmanager
def committed_files(instance: Instance, form: SubmittedForm) -> Iterator[list[tuple[Attachment, StoredBlob]]]:
    """The form's kept files, committed to the blob store; the block registers them. On any error in
    the block the new ciphertext that nothing refers to is deleted, and the error goes on."""
    new_blobs: list[str] = []
    try:
        committed = []
        for attachment, writer in form.kept_writers():
            stored = writer.commit()
            attachment.writer = None
            committed.append((attachment, stored))
            if not stored.deduplicated:
                new_blobs.append(stored.address)
        yield committed
    except BaseException:
        forget_blobs(instance, new_blobs)
        raise


def forget_blobs(instance: Instance, addresses: list[str]) -> None:
    """Delete ciphertext a submission added that no stored file refers to (the transaction that would
    have referred to it rolled back)."""
    if not addresses:
        return
    with instance.db.transaction() as session:
        held = set(session.execute(select(BlobRow.address).where(BlobRow.address.in_(addresses))).scalars())
    for address in addresses:
        if address not in held:
            instance.files.blobs.delete(address)
