# syntax=docker/dockerfile:1
# Production image: web (gunicorn), Celery worker and beat all run from it; docker-compose.yml wires them up.
# Dependencies come from uv.lock exactly (`uv sync --frozen`), so the image runs what CI tested.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: resolve the locked environment, compile translations, collect static files ----------------------
FROM ${PYTHON_IMAGE} AS build

ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext provides msgfmt for compilemessages; it stays in this stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project --python /usr/local/bin/python3.11

COPY . .

ENV PATH=/app/.venv/bin:$PATH
# Production settings need these to import; build steps never use them for anything else.
RUN export DJANGO_SETTINGS_MODULE=config.settings.prod \
           SECRET_KEY=build-only-placeholder-never-used-at-runtime \
           ALLOWED_HOSTS=localhost \
    && python manage.py compilemessages --ignore=.venv -v 0 \
    && python manage.py collectstatic --noinput -v 0

# --- runtime ------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 1000 app \
    && useradd --system --uid 1000 --gid app --home-dir /app --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=build --chown=app:app /app /app
RUN mkdir -p /app/media && chown app:app /app/media

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings.prod \
    MEDIA_ROOT=/app/media

USER app
EXPOSE 8000

# gunicorn reads WEB_CONCURRENCY for the number of worker processes (default 1); gunicorn.conf.py sets its request
# limits.
CMD ["gunicorn", "config.wsgi:application", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--threads", "4", \
     "--access-logfile", "-", "--graceful-timeout", "30"]
