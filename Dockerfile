# muteadmin production image: gunicorn serving Django, static files served by WhiteNoise.
# Build:   docker build -t muteadmin .
# Migrate: docker run --rm --env-file .env.production muteadmin python manage.py migrate

# Wheels are built here so the runtime stage needs neither a compiler nor pip's cache.
FROM python:3.13-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /build
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt


FROM python:3.13-slim AS runtime

# Unless DATABASE_URL names PostgreSQL, SQLite lives in /app/var: mount a named volume there to keep it.
# Each gunicorn worker counts /metrics' figures into PROMETHEUS_MULTIPROC_DIR; /metrics sums them.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////app/var/db.sqlite3 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/muteadmin-metrics

RUN groupadd --system --gid 10001 muteadmin \
    && useradd --system --uid 10001 --gid muteadmin --no-create-home --home-dir /app \
        --shell /usr/sbin/nologin muteadmin

WORKDIR /app
COPY requirements.txt .
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels -r requirements.txt

# The code stays owned by root: the server process can read it but not change it.
COPY . .
# The key only satisfies settings for this one command; it never reaches the image's environment.
RUN mkdir -p /app/var "$PROMETHEUS_MULTIPROC_DIR" \
    && SECRET_KEY=collectstatic-only-not-a-secret DEBUG=false python manage.py collectstatic --noinput \
    && rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}"/* \
    && chown muteadmin:muteadmin /app/var "$PROMETHEUS_MULTIPROC_DIR"

USER 10001:10001
EXPOSE 8000

# Django answers only hosts in ALLOWED_HOSTS, so the probe presents the first of them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import http.client, os; host = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); conn = http.client.HTTPConnection('127.0.0.1', 8000, timeout=4); conn.request('GET', '/healthz', headers={'Host': host if host not in ('', '*') else 'localhost'}); raise SystemExit(conn.getresponse().status != 200)"]

# Threads let a worker keep serving while one request waits on Tencent (its deadline is 15 s).
CMD ["gunicorn", "muteadmin.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "30", "--graceful-timeout", "30", "--keep-alive", "5", "--max-requests", "1000", "--max-requests-jitter", "100", "--worker-tmp-dir", "/dev/shm", "--no-control-socket", "--access-logfile", "-", "--error-logfile", "-"]
