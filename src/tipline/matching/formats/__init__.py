"""Hash-list files in and out: plain lists, CSV, Project VIC VICS JSON and ThreatExchange/HMA signal files.

One module per format (`plain`, `csv_file`, `vics`, `threatexchange`), each with its detection, reader
and writer, listed in one table (`registry.FORMATS`); `base` holds what they share.

Readers stream (a file of millions of lines is never held whole in memory), report every bad line
with its number and the reason, and carry on: `read_hash_list` returns the good records and the
skipped lines. A `progress(done, total)` callback receives bytes read and the file size (None when
unknown), so a command line can draw a bar. Writers stream too, and what they write reads back as
the same records, within what each format can carry:

| format           | carries                                                                        |
|------------------|--------------------------------------------------------------------------------|
| plain            | the value (one signal type per file; md5 and sha1 are recognised by length)   |
| csv              | everything: signal_type, signal_value, source, source_id, classification,      |
|                  | series, bank_kind                                                              |
| vics             | md5 and sha1 values, source_id (MediaID), series, bank_kind (from Category and |
|                  | VictimIdentified, see below)                                                   |
| threatexchange   | signal_type, value, source (collab), bank_kind known_material/ignore (category)|
|                  | and classification (as a tag)                                                  |

Project VIC categories and tipline (the VICS "Category" of each Media, Project VIC's US scheme):

| Category | Project VIC meaning                                | tipline                                          |
|----------|----------------------------------------------------|--------------------------------------------------|
| 0        | non-pertinent (seen in cases, not of interest)     | `ignore` bank kind: a known false positive        |
| 1        | child abuse material (CAM)                         | `known_material`, or `identified_series` when     |
|          |                                                    | VictimIdentified is true                          |
| 2        | child exploitive, not CAM / age difficult          | skipped unless asked for (then as category 1)     |
| 3        | CGI / animation, child exploitive                  | skipped unless asked for (then as category 1)     |
| 4        | comparison (exemplar) images                       | never imported: reference pictures, not matches   |
| missing  | uncategorised                                      | imported with no kind: the target bank's kind     |

VICS carries no A1/A2/B1/B2 classification, so VICS records have none. Series is kept as given.
"""

from tipline.matching.formats.base import (
    VICS_DEFAULT_CATEGORIES,
    HashListFormat,
    HashRecord,
    ImportResult,
    Progress,
    SkippedLine,
)
from tipline.matching.formats.registry import FORMATS, guess_format, iter_hash_list, read_hash_list, write_hash_list

__all__ = [
    "FORMATS",
    "HashListFormat",
    "HashRecord",
    "ImportResult",
    "Progress",
    "SkippedLine",
    "VICS_DEFAULT_CATEGORIES",
    "guess_format",
    "iter_hash_list",
    "read_hash_list",
    "write_hash_list",
]
