"""The Celery worker's entry point, as wsgi.py is the web server's:

celery -A worker:celery worker --beat      (make worker; needs REDIS_URL)
"""

from directory import create_app

app = create_app()
celery = app.extensions["celery"]
