"""A client of the CyberTipline Reporting API (NCMEC's /ispws, or another tipline's): every call has
timeouts, every answer is parsed strictly, and every failure becomes a `RemoteFailure` that says in
plain words what happened and whether trying again later can help.

Retryable: timeouts, connection and TLS failures, HTTP 5xx, an answer that is not a CyberTipline
response (a proxy's error page, garbage), the server-side failure codes of Appendix D (1000 Server
error, 1100 Save failed, 1110 Upload failed, 1111 File upload failed, 1300 Update failed) and codes
the documentation does not list. Not retryable: authentication and authorisation refusals (2000,
3000, 3100, 3300) and validation refusals (4000, 4100, 4110, 4200) — a person must act.
The password is never logged: httpx sends it in the Authorization header, which nothing here prints."""

from __future__ import annotations

import io
import ssl
from dataclasses import dataclass
from typing import IO, cast

import httpx
from lxml import etree

from tipline.cybertipline import codes
from tipline.forwarding.credentials import Secret

RETRYABLE_CODES = frozenset({codes.SERVER_ERROR, codes.SAVE_FAILED, codes.UPLOAD_FAILED, codes.FILE_UPLOAD_FAILED,
                             codes.UPDATE_FAILED})
PERSON_MUST_ACT_CODES = frozenset({
    codes.AUTHENTICATION_REQUIRED, codes.NOT_AUTHORIZED, codes.NOT_AUTHORIZED_TO_SUBMIT,
    codes.NOT_AUTHORIZED_TO_UPDATE, codes.INVALID_REQUEST, codes.VALIDATION_FAILED, codes.MALFORMED_XML,
    codes.MALFORMED_FILE,
})
MAX_ANSWER_BYTES = 1 << 20  # a CyberTipline answer is a few hundred bytes
XML_TYPE = "text/xml; charset=utf-8"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 10.0
    read: float = 60.0  # a large upload's answer comes after the server has stored it
    write: float = 60.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.connect)


class RemoteFailure(Exception):
    """A call that did not succeed. `retryable` says whether the same call later may succeed;
    `code` is the destination's response code when it gave one."""

    def __init__(self, message: str, *, retryable: bool, code: int | None = None, http_status: int | None = None,
                 request_id: str | None = None) -> None:
        detail = message + (f" (the destination's Request-ID: {request_id})" if request_id else "")
        super().__init__(detail)
        self.retryable = retryable
        self.code = code
        self.http_status = http_status
        self.request_id = request_id


@dataclass(frozen=True)
class Answer:
    code: int
    description: str
    report_id: str | None
    file_id: str | None
    md5: str | None


class IspwsClient:
    """One destination's API at `base_url` (ending in /ispws), as `username`."""

    def __init__(self, base_url: str, username: str, password: Secret, *, timeouts: Timeouts | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            auth=httpx.BasicAuth(username, password.reveal()), timeout=(timeouts or Timeouts()).httpx(),
            follow_redirects=False, transport=transport, headers={"User-Agent": "tipline-forwarding/1"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> IspwsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the endpoints ---------------------------------------------------------------------------

    def status(self) -> Answer:
        return self._call("GET", "/status")

    def submit(self, report_xml: bytes, idempotency_key: str) -> str:
        """Open a remote report; its id. The Idempotency-Key makes a repeated submit after a lost
        answer return the same report on a tipline destination (NCMEC ignores the header)."""
        answer = self._call("POST", "/submit", content=report_xml,
                            headers={"Content-Type": XML_TYPE, "Idempotency-Key": idempotency_key})
        if not answer.report_id:
            raise RemoteFailure("the destination accepted the report but gave no report ID", retryable=True)
        # CyberTipline report IDs are numbers (file details carry them as one)
        if not (answer.report_id.isascii() and answer.report_id.isdigit()):
            raise RemoteFailure(f"the destination gave a report ID that is not a number ({answer.report_id!r}); "
                                "its report was left unfinished", retryable=False)
        return answer.report_id

    def upload(self, remote_report_id: str, file_name: str, content: io.RawIOBase) -> Answer:
        """Send one file, streamed from `content` (the encrypted store's plaintext view): it is read
        chunk by chunk as the request is sent and never written anywhere."""
        answer = self._call("POST", "/upload", data={"id": remote_report_id},
                            files={"file": (file_name, cast(IO[bytes], content), "application/octet-stream")})
        if not answer.file_id:
            raise RemoteFailure("the destination accepted the file but gave no file ID", retryable=True)
        return answer

    def file_info(self, details_xml: bytes) -> Answer:
        return self._call("POST", "/fileinfo", content=details_xml, headers={"Content-Type": XML_TYPE})

    def finish(self, remote_report_id: str) -> Answer:
        return self._call("POST", "/finish", data={"id": remote_report_id})

    def retract(self, remote_report_id: str) -> Answer:
        return self._call("POST", "/retract", data={"id": remote_report_id})

    # --- one call --------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: object) -> Answer:
        url = self.base_url + path
        try:
            with self._client.stream(method, url, **kwargs) as response:  # type: ignore[arg-type]  # httpx's kwargs
                body = _read_limited(response)
        except httpx.TimeoutException as error:
            raise RemoteFailure(f"{path}: the destination did not answer in time ({type(error).__name__})",
                                retryable=True) from None
        except httpx.ConnectError as error:
            if _is_tls(error):
                raise RemoteFailure(f"{path}: no secure connection could be made (TLS failure: {_cause(error)})",
                                    retryable=True) from None
            raise RemoteFailure(f"{path}: the destination could not be reached ({_cause(error)})",
                                retryable=True) from None
        except httpx.TransportError as error:
            raise RemoteFailure(f"{path}: the connection failed ({type(error).__name__}: {_cause(error)})",
                                retryable=True) from None
        request_id = response.headers.get("Request-ID") or response.headers.get("X-Request-ID")
        return self._answer(path, response.status_code, body, request_id)

    def _answer(self, path: str, status: int, body: bytes | None, request_id: str | None) -> Answer:
        answer = _parse(body) if body is not None else None
        if answer is None:
            if status >= 500:
                raise RemoteFailure(f"{path}: the destination answered HTTP {status}", retryable=True,
                                    http_status=status, request_id=request_id)
            what = "an answer too large to be one" if body is None else "an answer that is not a CyberTipline response"
            raise RemoteFailure(f"{path}: the destination gave {what} (HTTP {status})", retryable=True,
                                http_status=status, request_id=request_id)
        if answer.code == codes.SUCCESS and status < 300:
            return answer
        if answer.code == codes.SUCCESS:
            raise RemoteFailure(f"{path}: the destination answered HTTP {status} with success code 0",
                                retryable=True, http_status=status, request_id=request_id)
        known = codes.DESCRIPTIONS.get(answer.code)
        message = f"{path}: the destination refused with code {answer.code}"
        message += f" ({known})" if known else " (a code the CyberTipline documentation does not list)"
        if answer.description and answer.description != known:
            message += f": {answer.description[:500]}"
        retryable = status >= 500 or answer.code in RETRYABLE_CODES or answer.code not in PERSON_MUST_ACT_CODES
        raise RemoteFailure(message, retryable=retryable, code=answer.code, http_status=status,
                            request_id=request_id)


def _read_limited(response: httpx.Response) -> bytes | None:
    """The body, or None when it is larger than any CyberTipline answer."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _text(root: etree._Element, name: str) -> str | None:
    element = root.find(name)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _parse(body: bytes) -> Answer | None:
    """A <reportResponse> or <reportDoneResponse>; None for anything else."""
    try:
        root = etree.fromstring(body, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root.tag not in ("reportResponse", "reportDoneResponse"):
        return None
    raw_code = _text(root, "responseCode")
    if raw_code is None or not raw_code.isdigit() or len(raw_code) > 6:
        return None
    report_id = _text(root, "reportId")
    file_id = _text(root, "fileId")
    if (report_id and len(report_id) > 64) or (file_id and len(file_id) > 64):
        return None
    return Answer(int(raw_code), _text(root, "responseDescription") or "", report_id, file_id, _text(root, "hash"))


def _is_tls(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "SSL" in type(seen).__name__ or "certificate" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _cause(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text[:300]
