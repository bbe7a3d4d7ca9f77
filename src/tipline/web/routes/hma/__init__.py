"""HMA-compatible endpoints: the subset of Meta's Hasher-Matcher-Actioner 2.0 API that an integration uses
to hash content, look hashes up and fill banks, with HMA's paths, parameters and JSON shapes, so that it
can switch to tipline by changing its base URL (docs/matching.md, "HMA-compatible API", lists what is
served and where tipline differs).

* `/h/hash`: hash an uploaded photo or video (multipart/form-data, field `photo` or `video`).
* `/m/lookup`: look a signal up (GET) or an uploaded file (POST); answers `{bank: [{bank_content_id,
  distance}]}` with what is matched by known-material and identified-series banks and not silenced by
  an ignore bank.
* `/c/banks`, `/c/bank/{bank_name}`: list, create and read banks.
* `/c/bank/{bank_name}/signal`, `/c/bank/{bank_name}/content`: add signals, or the signals of uploaded content.

Behind tipline's authorisation: lookups and hashing for staff who read reports and for service
providers' API accounts; reading banks for staff who read reports; changing banks for supervisors.
Uploads are read from the request stream into memory within the body limit and hashed there: no byte
of them is written to disk (no UploadFile, whose spooling would). Lookups use this process's matcher;
changes go through BankStore (audited, in the change log), so every process matches them within a second.

The package holds one module per URL root: `hashing` (/h), `lookups` (/m) and `curation` (/c), with
what they share in `shapes` (HMA's JSON shapes, error answers and their OpenAPI documentation), `access`
(who may) and `bodies` (reading a JSON or multipart body).
"""

from __future__ import annotations

from fastapi import APIRouter

from tipline.web.routes.hma import curation, hashing, lookups

router = APIRouter()
for _module in (hashing, lookups, curation):
    router.include_router(_module.router)
