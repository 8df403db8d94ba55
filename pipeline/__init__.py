"""Newsflow's processing: pure stages on a typed Document. No Celery in here."""
