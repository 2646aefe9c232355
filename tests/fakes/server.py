"""Serving fakes on loopback: the helper the demo serves its simulator with."""

from __future__ import annotations

from bridge.app.loopback import bound, serving

__all__ = ["bound", "serving"]
