"""Implementations of the core's store port (``bridge.ports.store``): SQLite and PostgreSQL."""
