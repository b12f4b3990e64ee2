# Delphos service image: the app, its offline speech model, and nothing that calls home.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 DELPHOS_HOST=0.0.0.0 DELPHOS_PORT=8000 DELPHOS_DATA_DIR=/var/lib/delphos

WORKDIR /app
COPY pyproject.toml requirements.lock README.md alembic.ini ./
COPY delphos ./delphos
COPY migrations ./migrations
RUN pip install -c requirements.lock -e . \
    && useradd --system --home /var/lib/delphos delphos \
    && mkdir -p /var/lib/delphos && chown delphos /var/lib/delphos

USER delphos
EXPOSE 8000
# Migrations run on every start (idempotent), then the server.
CMD ["delphos", "serve", "--migrate"]
