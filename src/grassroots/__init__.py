"""Grassroots: an open-source engine for content social e-commerce."""

__version__ = "0.1.0"
