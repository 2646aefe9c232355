"""raia's agent API as a driven adapter: ``client`` (HTTP, implements ``AgentPort``),
``mapping`` (raia's JSON -> the core's values) and ``simulator`` (a fake raia that
follows the published API, for the demo, the tests and the benchmark)."""
