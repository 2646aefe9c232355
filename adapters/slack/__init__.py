"""Slack: bolt's AsyncApp over the Events API (HTTP or Socket Mode)."""
