"""Café loyalty bot: domain, services, settings and the application factory."""

__version__ = "0.1.0"
