"""Blaigent (seed 003): an agent API whose chat call returns the answer."""
