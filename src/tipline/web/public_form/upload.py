"""Reading a submitted report form from the request stream, files straight into the encrypted store.

FastAPI's `UploadFile` spools large files to a plaintext temporary file; this reader never does.
It reads the body with web/multipart.py's streaming reader, keeps the (small, bounded) text fields in
memory and hands each file's bytes, as they arrive, to a `BlobWriter` that encrypts them chunk by
chunk. Writers are only committed by the caller once the whole submission is accepted; on any
problem they are aborted, which deletes their temporary ciphertext, so nothing is half-stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import Request
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool

from tipline.media.blobstore import BlobWriter
from tipline.store.files import FileStore, clean_file_name
from tipline.web.i18n import gettext as _
from tipline.web.multipart import Buffer, MultipartError, MultipartReader, Part, PartSink
from tipline.web.public_form.guards import (
    FORM_TOKEN_FIELD,
    HONEYPOT_FIELD,
    FormSettings,
)
from tipline.web.public_form.questions import FIELD_NAMES, LIMITS

FILE_FIELD = "attachments"
MAX_PARTS = 200
MAX_URLENCODED = 512 * 1024
OTHER_FIELD_BYTES = 1024
FLUSH_BYTES = 256 * 1024
PART_OVERHEAD = 2048  # a part's boundary and headers (name, file name, type), generously


class FormUnreadable(ValueError):
    """The body is not a form this page sent (wrong content type, broken multipart, too large)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def describe_size(size: int) -> str:
    """Bytes in the words a person uses: 25 MB, 300 KB, 12 bytes."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        return f"{value:.0f} MB" if value >= 10 or value == int(value) else f"{value:.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


@dataclass(eq=False)
class Attachment:
    """One file of the submission: its name and size, and its encrypted upload while it is kept."""

    file_name: str | None
    size: int = 0
    writer: BlobWriter | None = None
    kept: bool = True
    listed: bool = False


@dataclass
class SubmittedForm:
    values: dict[str, str] = field(default_factory=dict)
    too_long: set[str] = field(default_factory=set)
    attachments: list[Attachment] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)

    @property
    def files_sent(self) -> int:
        return len(self.attachments)

    def kept_writers(self) -> list[tuple[Attachment, BlobWriter]]:
        return [(a, a.writer) for a in self.attachments if a.kept and a.writer is not None]

    def discard_files(self) -> None:
        """Abort every upload (their temporary ciphertext is deleted)."""
        for attachment in self.attachments:
            attachment.kept = False
            if attachment.writer is not None:
                with contextlib.suppress(Exception):
                    attachment.writer.abort()
                attachment.writer = None


def body_limit(limits: FormSettings) -> int:
    """The most a submission of this form can need: every file allowed, every answer at its longest,
    and room for the parts' headers and boundaries. Anything larger is refused unread (declared) or
    as soon as it passes this (streamed), never read to its end."""
    fields = sum(_field_cap(name) for name in (*FIELD_NAMES, FORM_TOKEN_FIELD, HONEYPOT_FIELD))
    return limits.max_total_bytes + fields + MAX_PARTS * PART_OVERHEAD


def _too_large(limits: FormSettings) -> FormUnreadable:
    return FormUnreadable(413, _("What you sent is larger than this form accepts: files may add up to %(total)s in "
                                 "all, at most %(each)s each. Please send fewer or smaller files, or tell us where "
                                 "the files are.", total=describe_size(limits.max_total_bytes),
                                 each=describe_size(limits.max_file_bytes)))


def _field_cap(name: str, limits: Mapping[str, int] = LIMITS) -> int:
    if name in limits:
        return limits[name] * 4 + 64  # UTF-8 takes up to 4 bytes a character; the checks count characters
    return OTHER_FIELD_BYTES


class FormReader:
    """Reads one submission. `may_store(values)` is asked when the first file arrives: files are
    only encrypted and kept when the fields read so far (the form token, the honeypot) allow it."""

    def __init__(self, files: FileStore, limits: FormSettings, may_store: Callable[[dict[str, str]], bool], *,
                 fields: Mapping[str, int] | None = None) -> None:
        """`fields`: the text fields of another form than the report form, with their longest answers."""
        self.field_limits: Mapping[str, int] = fields if fields is not None else LIMITS
        self.field_names = frozenset(fields) if fields is not None else FIELD_NAMES
        self.files = files
        self.limits = limits
        self.may_store = may_store
        self.form = SubmittedForm()
        self._storing: bool | None = None  # decided at the first file
        self._total = 0
        self._pending: list[tuple[Attachment, bytes]] = []
        self._pending_bytes = 0

    async def read(self, request: Request) -> SubmittedForm:
        content_type, options = parse_options_header(request.headers.get("content-type", ""))
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > body_limit(self.limits):
            raise _too_large(self.limits)
        if content_type == b"application/x-www-form-urlencoded":
            await self._read_urlencoded(request)
        elif content_type == b"multipart/form-data":
            boundary = options.get(b"boundary")
            if not boundary:
                raise FormUnreadable(400, _("The form was sent without its multipart boundary."))
            await self._read_multipart(request, boundary)
        else:
            raise FormUnreadable(415, _("The report form must be sent as a web form (multipart/form-data)."))
        return self.form

    async def _read_urlencoded(self, request: Request) -> None:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_URLENCODED:
                raise FormUnreadable(413, _("The form is too large to read."))
        try:
            pairs = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                              max_num_fields=MAX_PARTS)
        except ValueError:
            raise FormUnreadable(400, _("The form has too many fields to be this site's form.")) from None
        for name, value in pairs:
            self._keep_field(name, value.encode("utf-8"))

    async def _read_multipart(self, request: Request, boundary: bytes) -> None:
        try:
            reader = MultipartReader(boundary, self._on_part, strict=False, max_parts=None)
        except MultipartError as error:
            raise FormUnreadable(400, _("The form could not be read (%(error)s).", error=error.message)) from None

        async def flush_now_and_then() -> None:
            if self._pending_bytes >= FLUSH_BYTES:
                await run_in_threadpool(self._flush)

        try:
            try:
                await reader.read(request, max_bytes=body_limit(self.limits),
                                  too_large=lambda: _too_large(self.limits), after_chunk=flush_now_and_then)
            except MultipartError:
                raise FormUnreadable(400, _("The form could not be read: it arrived damaged.")) from None
            await run_in_threadpool(self._flush)
        except BaseException:
            self.form.discard_files()
            raise
        self._check_files()
        if self.form.file_problems:
            self.form.discard_files()

    # --- the parts, as web/multipart.py reads them (synchronous, no I/O) ---------------------------

    def _on_part(self, part: Part) -> PartSink | None:
        if part.index > MAX_PARTS:
            return None
        if not part.is_file:
            return Buffer(_field_cap(part.name, self.field_limits) + 1,  # one more: too long is then seen
                          on_close=lambda value: self._keep_field(part.name, bytes(value.data)))
        if part.name != FILE_FIELD:
            return None
        if self._storing is None:
            self._storing = self.may_store(dict(self.form.values))
        return _AttachmentPart(self, Attachment(clean_file_name(part.file_name), kept=bool(self._storing)))

    def _file_data(self, attachment: Attachment, data: bytes) -> None:
        size = len(data)
        if size and not attachment.listed:
            attachment.listed = True
            self.form.attachments.append(attachment)
        attachment.size += size
        self._total += size
        if attachment.kept and (
            len(self.form.attachments) > self.limits.max_files
            or attachment.size > self.limits.max_file_bytes
            or self._total > self.limits.max_total_bytes
        ):
            # the submission will be refused: stop encrypting anything, keep counting for the message
            self._storing = False
            for each in self.form.attachments:
                each.kept = False
        if attachment.kept and size:
            self._pending.append((attachment, bytes(data)))
            self._pending_bytes += size

    def _file_end(self, attachment: Attachment) -> None:
        if not attachment.listed and attachment.file_name:
            # a file chosen but empty: tell the person rather than drop it silently (a file input left
            # empty arrives with no name and is skipped)
            attachment.listed = True
            self.form.attachments.append(attachment)

    def _keep_field(self, name: str, raw: bytes) -> None:
        if name not in self.field_names and name not in (FORM_TOKEN_FIELD, HONEYPOT_FIELD):
            return
        if name in self.form.values:
            return  # the first value counts; the form sends each field once
        cap = _field_cap(name, self.field_limits)
        if len(raw) > cap:
            self.form.too_long.add(name)
            raw = raw[:cap]
        self.form.values[name] = raw.decode("utf-8", errors="replace")

    # --- encryption (in a worker thread) ----------------------------------------------------------

    def _flush(self) -> None:
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        for attachment, data in pending:
            if not attachment.kept:
                if attachment.writer is not None:
                    attachment.writer.abort()
                    attachment.writer = None
                continue
            if attachment.writer is None:
                attachment.writer = self.files.writer(max_size=self.limits.max_file_bytes)
            attachment.writer.write(data)
        for attachment in self.form.attachments:
            if not attachment.kept and attachment.writer is not None:
                attachment.writer.abort()
                attachment.writer = None

    def _check_files(self) -> None:
        limits = self.limits
        sent = self.form.attachments
        problems = self.form.file_problems
        if len(sent) > limits.max_files:
            problems.append(_("You chose %(count)s files. Please send at most %(most)s, and tell us about the "
                              "others under \u201cWhat happened\u201d.", count=len(sent), most=limits.max_files))
        too_big = False
        for attachment in sent:
            name = f"\u201c{attachment.file_name}\u201d" if attachment.file_name else _("One of the files")
            if attachment.size == 0:
                problems.append(_("%(name)s is empty. Choose it again, or leave it out.", name=name))
            elif attachment.size > limits.max_file_bytes:
                too_big = True
                problems.append(_("%(name)s is %(size)s, more than the %(most)s each file may be. Send a smaller "
                                  "file or a screenshot, or tell us where the file is.", name=name,
                                  size=describe_size(attachment.size), most=describe_size(limits.max_file_bytes)))
        total = sum(a.size for a in sent)
        if total > limits.max_total_bytes and not too_big:
            problems.append(_("Your files add up to %(size)s, more than the %(most)s allowed in all. Please send "
                              "fewer or smaller files.", size=describe_size(total),
                              most=describe_size(limits.max_total_bytes)))


class _AttachmentPart:
    """The sink of one attachment's bytes: counted and queued for encryption by its FormReader."""

    def __init__(self, reader: FormReader, attachment: Attachment) -> None:
        self.reader = reader
        self.attachment = attachment

    def write(self, data: bytes) -> None:
        self.reader._file_data(self.attachment, data)

    def close(self) -> None:
        self.reader._file_end(self.attachment)
