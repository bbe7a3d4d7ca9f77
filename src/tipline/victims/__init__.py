"""Victim identification: series sightings, the victim-identification queue, and clusters of
unidentified material recurring across reports (the registry itself is tipline.store.series)."""
