"""Helpers for the boilerplate-removal stage: line features, patterns, the line model (pure)."""
