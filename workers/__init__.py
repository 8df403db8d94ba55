"""Celery-facing glue: the app, thin tasks, the watcher, the command line.

Every process that enters here (a worker and its pool processes, the watcher, the command
line) runs the model's native code single-threaded (config/native.py): imported first, so
before numpy.
"""

from config.native import single_threaded_native

single_threaded_native()
