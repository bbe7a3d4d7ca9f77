"""The trained enticement models shipped with the package, one gzip-compressed JSON file per language."""
