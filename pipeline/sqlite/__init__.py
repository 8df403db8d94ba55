"""The embedded index: documents with full text (index.py), claims (claims.py) and stories
(stories.py), one SQLite file shared through db.py (does I/O)."""
