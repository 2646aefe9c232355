"""The core's ports: small Protocols the adapters and the store implement (or call)."""
