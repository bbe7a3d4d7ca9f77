"""tipline: a self-hostable hotline for reports of child sexual exploitation."""

__version__ = "0.1.0"
