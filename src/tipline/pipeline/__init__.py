"""The pipeline: durable jobs that move a report stage by stage from received to awaiting review."""
