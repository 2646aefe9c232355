"""The slug chat API (seed 004): chat by agent slug, optionally streamed as SSE."""
