"""Follow-up after a public report: the command-line side (the resource directory, requests due)."""
