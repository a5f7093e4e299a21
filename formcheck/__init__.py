"""formcheck: a self-hostable exercise form checker for back-pain rehabilitation."""

__version__ = "0.1.0"
