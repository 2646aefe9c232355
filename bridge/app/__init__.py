"""The composition root: settings -> runtime -> HTTP server or terminal chat.

The only place that imports the adapters and the store, and wires them to the core.
"""
