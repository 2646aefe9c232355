"""The terminal as a platform: ``raia-bridge chat`` and ``raia-bridge demo``."""
