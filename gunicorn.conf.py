"""Gunicorn settings shared by `make run` (Procfile) and the image (Dockerfile's CMD); where they run, how many
workers and the bind address stay on their command lines.

Request limits. Gunicorn refuses what is past its limits before Django sees the request, with its own small HTML
page (414 URI Too Long, 431 Request Header Fields Too Large, 400). The app's own limits are lower, so that anything
between the two gets the app's answer: JSON in the error shape under /api/ (414 `uri_too_long`, 431
`request_headers_too_large`, 413 `request_too_large`), a page elsewhere (config/middleware.py):

| what                    | the app answers past                          | gunicorn answers past                    |
|-------------------------|-----------------------------------------------|------------------------------------------|
| URL (request line)      | REQUEST_MAX_URL_BYTES = 4096 (path + query)   | limit_request_line = 8190 (its maximum)  |
| one header line         | (counts towards the total)                    | limit_request_field_size = 8190          |
| all headers             | REQUEST_MAX_HEADER_BYTES = 16384              | limit_request_fields = 100 lines         |
| body                    | DATA_UPLOAD_MAX_MEMORY_SIZE = 2.5 MiB         | (no limit: the app's applies)            |

tests/test_hostile_input.py::test_gunicorn_leaves_the_app_room_to_answer starts gunicorn with this file and checks
both sides of each boundary.

The garbage collector. A worker imports the whole app (~160,000 objects the collector tracks), and a full collection
walks all of them: under load each took 80-120 ms, every thread of the worker stopped meanwhile, the slowest
requests of a bench run (docs/performance.md). Once the app is loaded, post_worker_init moves what exists then into
the collector's permanent generation (gc.freeze): those objects live as long as the worker anyway, and later full
collections walk only what was made since (a few ms)."""

import gc
from importlib import import_module

from django.conf import settings  # lazy: read in post_worker_init, once the worker has set Django up

limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


def post_worker_init(worker: object) -> None:
    """After the worker has loaded the app and its URLconf (with it every view; Django would import them at the
    first request): collect once, then freeze what is left (the module docstring)."""
    import_module(settings.ROOT_URLCONF)
    gc.collect()
    gc.freeze()
