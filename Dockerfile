# Santap's service image, for PostgreSQL (DATABASE_URL). Build: docker build -t santap .
# Run with compose.yaml. The serve command never migrates PostgreSQL: run `santap db upgrade` as
# a one-shot first (compose's `migrate` service does); `santap serve` refuses an old schema.

ARG PYTHON_IMAGE=python:3.11-slim-trixie

# Build: the pinned dependencies, every one checked against its hash, then Santap alone.
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/santap
WORKDIR /src
COPY requirements.lock ./
RUN /opt/santap/bin/pip install --no-cache-dir --require-hashes --only-binary=:all: \
        -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/santap/bin/pip install --no-cache-dir --no-deps ./

# Run: the virtualenv only, as an unprivileged user.
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 santap \
    && useradd --system --uid 10001 --gid santap --home-dir /var/lib/santap --create-home \
        --shell /usr/sbin/nologin santap
COPY --from=build /opt/santap /opt/santap
ENV PATH=/opt/santap/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
WORKDIR /var/lib/santap
EXPOSE 8000
# Ready means the database answers and the background tasks run (GET /ready; 503 otherwise).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]
CMD ["santap", "serve", "--host", "0.0.0.0", "--port", "8000"]
