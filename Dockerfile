# raia-bridge: one process serving HTTP on $PORT (webhooks, /healthz) and the background work.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite:////data/bridge.db

WORKDIR /app
# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY bridge/ bridge/
COPY adapters/ adapters/
COPY store/ store/
# The package itself, on the pinned dependencies above: `raia-bridge check` (and every
# other command the README gives) runs in the image, as `python -m bridge check` does.
RUN pip install --no-deps . && rm -rf build *.egg-info

# Not root; /data holds the SQLite database (mount a volume there).
RUN useradd --system --uid 10001 --home-dir /app bridge \
    && mkdir /data && chown bridge /data
USER bridge
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"

# The same command as the Procfile's web process.
CMD ["python", "-m", "bridge"]
