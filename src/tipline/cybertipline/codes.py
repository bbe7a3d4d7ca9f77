"""The response codes of the CyberTipline Reporting API (Appendix D) and the HTTP status each one
is answered with. The documentation gives the codes; it names one HTTP status (400 with 4100 for a
batched report's /finish); the others follow what existing clients expect (see docs/ispws.md)."""

from __future__ import annotations

SUCCESS = 0
SERVER_ERROR = 1000
SAVE_FAILED = 1100
UPLOAD_FAILED = 1110
FILE_UPLOAD_FAILED = 1111
RESOURCE_NOT_FOUND = 1210
UPDATE_FAILED = 1300
AUTHENTICATION_REQUIRED = 2000
NOT_AUTHORIZED = 3000
NOT_AUTHORIZED_TO_SUBMIT = 3100
NOT_AUTHORIZED_TO_UPDATE = 3300
INVALID_REQUEST = 4000
VALIDATION_FAILED = 4100
MALFORMED_XML = 4110
MALFORMED_FILE = 4200
REPORT_DOES_NOT_EXIST = 5001
FILE_DOES_NOT_EXIST = 5002
REPORT_ALREADY_RETRACTED = 5101
REPORT_ALREADY_FINISHED = 5102

DESCRIPTIONS: dict[int, str] = {
    SUCCESS: "Success",
    SERVER_ERROR: "Server error",
    SAVE_FAILED: "Save failed",
    UPLOAD_FAILED: "Upload failed",
    FILE_UPLOAD_FAILED: "File upload failed",
    RESOURCE_NOT_FOUND: "Resource not found",
    UPDATE_FAILED: "Update failed",
    AUTHENTICATION_REQUIRED: "Authentication required",
    NOT_AUTHORIZED: "User is not authorized to perform this action",
    NOT_AUTHORIZED_TO_SUBMIT: "User does not have authorization to make submissions",
    NOT_AUTHORIZED_TO_UPDATE: "User does not have authorization to make updates",
    INVALID_REQUEST: "Invalid request",
    VALIDATION_FAILED: "Validation failed",
    MALFORMED_XML: "Malformed XML submittal",
    MALFORMED_FILE: "Malformed file submittal",
    REPORT_DOES_NOT_EXIST: "Report does not exist",
    FILE_DOES_NOT_EXIST: "File does not exist",
    REPORT_ALREADY_RETRACTED: "Report already retracted",
    REPORT_ALREADY_FINISHED: "Report already finished",
}

HTTP_STATUS: dict[int, int] = {
    SUCCESS: 200,
    SERVER_ERROR: 500,
    SAVE_FAILED: 500,
    UPLOAD_FAILED: 500,
    FILE_UPLOAD_FAILED: 400,
    RESOURCE_NOT_FOUND: 404,
    UPDATE_FAILED: 500,
    AUTHENTICATION_REQUIRED: 401,
    NOT_AUTHORIZED: 403,
    NOT_AUTHORIZED_TO_SUBMIT: 403,
    NOT_AUTHORIZED_TO_UPDATE: 403,
    INVALID_REQUEST: 400,
    VALIDATION_FAILED: 400,
    MALFORMED_XML: 400,
    MALFORMED_FILE: 400,
    REPORT_DOES_NOT_EXIST: 404,
    FILE_DOES_NOT_EXIST: 404,
    REPORT_ALREADY_RETRACTED: 409,
    REPORT_ALREADY_FINISHED: 409,
}


class IspwsError(Exception):
    """A refusal with its documented response code; `detail` says precisely what was wrong.
    `status` overrides the code's usual HTTP status (415 for a wrong Content-Type, 413 for a
    file over the limit)."""

    def __init__(self, code: int, detail: str | None = None, *, status: int | None = None) -> None:
        super().__init__(detail or DESCRIPTIONS[code])
        self.code = code
        self.detail = detail
        self.status = status or HTTP_STATUS[code]

    @property
    def description(self) -> str:
        base = DESCRIPTIONS[self.code]
        return f"{base}: {self.detail}" if self.detail else base
