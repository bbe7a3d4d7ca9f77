"""The ways reports come in (XML API, JSON API, public form, bulk) and the one path they all share."""
