"""Reading the outside world in: dropped files (files.py) and fetched URLs (web.py) (does I/O)."""
