"""Consumers of the engine: the JSON/CSV result, terminal views and the HTML report."""
