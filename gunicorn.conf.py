"""gunicorn's settings for Archlens (`make serve`, the Docker image, `make load`).

gunicorn reads this file from the folder it starts in; flags on its command line win.
"""

import os

wsgi_app = "config.wsgi"
worker_class = "gthread"
workers = int(os.environ.get("WEB_WORKERS", "3"))
threads = 4
# A question page polls every 2 s (reviews/question.html). gunicorn's default of 2 s closed its
# connection just before each poll, so every poll paid for a new connection as well.
keepalive = 5
# No access log: the app writes one line per request itself, with its id, user and CPU time
# (config/middleware.py).
