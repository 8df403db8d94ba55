"""Everything that touches the outside world: files, the web, Redis, the indices."""
