"""Notice and takedown: where each URL of a report is hosted, the hosting provider's abuse contact,
notices drafted from a template and followed through their states, and how fast material goes
(docs/takedown.md). Lookups run in a worker (job `takedown.locate`), never in a web request."""
