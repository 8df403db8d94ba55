"""Celery-facing glue: the app, thin tasks, the watcher, the command line."""
