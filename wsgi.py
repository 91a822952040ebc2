"""Entry point for gunicorn and the flask command: `gunicorn wsgi:app`."""

import gc

from directory import create_app
from directory.geo import gazetteer

app = create_app()
gazetteer()  # load the ZIP gazetteer once, before serving
# The app, its gazetteer and libraries live as long as the process: move them out
# of the garbage collector's scans so a full collection does not pause a request.
gc.collect()
gc.freeze()
