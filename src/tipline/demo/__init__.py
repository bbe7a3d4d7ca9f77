"""The demo: a synthetic dataset and the setup that loads it through the real intake path."""
