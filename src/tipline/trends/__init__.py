"""Trends and emerging threats: daily counts kept current by the pipeline, a detector of surges and of
identifiers suddenly shared across providers, and published figures with small cells suppressed."""
