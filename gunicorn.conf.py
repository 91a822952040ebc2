# gunicorn settings for production: `gunicorn wsgi:app` reads this file.
# gunicorn serves production: the app starts with the production config (and so
# refuses a missing or weak SECRET_KEY) unless APP_ENV says otherwise.
# The access log records the path without its query string: search parameters
# can carry a client's health conditions, which never go to logs.
import multiprocessing
import os

os.environ.setdefault("APP_ENV", "production")

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
accesslog = os.environ.get("ACCESS_LOG", "-")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
