# gunicorn settings for production: `gunicorn wsgi:app` reads this file.
# gunicorn serves production: the app starts with the production config (and so
# refuses a missing or weak SECRET_KEY) unless APP_ENV says otherwise.
# The access log records the path without its query string: search parameters
# can carry a client's health conditions, which never go to logs. Secrets in a
# path (/auth/reset/<token>, /calendar/<token>.ics...) are logged as [secret]
# by the app's filter on gunicorn's loggers (directory/logging_privacy.py).
import multiprocessing
import os

os.environ.setdefault("APP_ENV", "production")

# Loopback by default: with PROXY_COUNT=1 (a reverse proxy in front, as the README
# recommends) the app believes the X-Forwarded-For the proxy sets, so anyone who
# could reach gunicorn's port directly could forge their address and escape every
# per-client limit. Only the proxy on this machine may connect; set BIND (e.g.
# 0.0.0.0:8000 in a container, or with PROXY_COUNT=0 and no proxy) to choose otherwise.
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
accesslog = os.environ.get("ACCESS_LOG", "-")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
