"""curator: adopt public ML models into a private registry, with evidence."""

__version__ = "0.1.0"
