"""Hash-list exchanges as sources of banks (docs/exchanges.md).

`apis.py`: each kind of exchange tipline can fetch from, through python-threatexchange's clients
(NCMEC hash sharing) or tipline's own hash-list readers (a partner's file or URL list, e.g. a Project
VIC export), turned into pages of `RemoteEntry` with a checkpoint; `stopncii.py` and `threatexchange.py`:
StopNCII and Meta ThreatExchange through python-threatexchange's clients, in the same shape; `fetch.py`: fetching an exchange
page by page, each page applied with its checkpoint in one transaction, then the reports matched
again; `quarantine.py`: entries that match far too much are held.
"""
