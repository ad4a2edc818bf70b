# gunicorn's settings for hello-api (Hello API), which serves
# idna.app:application from /usr/lib/venvs/hello: read by hello-api.service.
# A conffile: dpkg keeps your changes across upgrades. Every setting:
# https://docs.gunicorn.org/en/stable/settings.html

import sys

bind = ["0.0.0.0:8080"]
workers = 4
proc_name = "hello-api"
# One request may wait on the database and other services: gunicorn's 30 s is short for an API.
timeout = 120
# Requests are logged to the journal, with the service's own log.
accesslog = "-"


def post_fork(server, worker):
    # OpenStack's applications read the process's arguments with oslo.config as they load
    # (keystone does): a worker's must not be gunicorn's own.
    sys.argv[1:] = []
