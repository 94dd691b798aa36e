# Studio: one image for the API (`studio api`, the default) and the worker (`studio worker`).
# Render and Railway build it from the repository root; see docs/DEPLOY.md.
#
# Base: `python:3.11-slim-bookworm`, named in full because plain `3.11-slim` now follows Debian
# trixie and would change the system libraries under WeasyPrint without a change here.

# ---- builder: resolve and install every Python dependency into a self-contained venv ----------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

# Every dependency ships manylinux wheels (psycopg[binary], shapely, msgspec, uvloop), so the
# builder needs no compiler; it exists to keep pip's build tree and setuptools out of the runtime.
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY api/ api/
COPY pipeline/ pipeline/
COPY engine/ engine/
COPY ops/ ops/
COPY migrations/ migrations/
# A plain (non-editable) install: the venv holds the code and the migrations (package data),
# so the runtime stage needs no /src.
RUN pip install --no-cache-dir .

# ---- runtime ---------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

# WeasyPrint (>= 61, wheels) needs Pango, PangoFT2 and HarfBuzz's subsetter from Debian, and at
# least one font or PDFs render with no glyphs. curl is deliberately absent: the HEALTHCHECK uses
# Python. Versions are not pinned: bookworm's security updates replace these packages in the
# archive, so a pinned version stops resolving within weeks; the release (bookworm) is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Numeric non-root user, so platforms that check `runAsNonRoot` can verify it without /etc/passwd.
# A home directory gives fontconfig a writable cache.
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/studio \
        --no-log-init --shell /usr/sbin/nologin studio \
    && install -d -o 10001 -g 10001 /var/lib/studio

COPY --from=builder /opt/venv /opt/venv

# Writable by the app user, so the working directory and DATA_DIR hold any local state.
WORKDIR /var/lib/studio

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    LOG_FORMAT=json \
    DATA_DIR=/var/lib/studio

USER 10001

# Documentation only: `studio api` listens on $PORT (Render and Railway set it), 8000 without it.
EXPOSE 8000

# Exec form calling Python, which reads PORT itself; an HTTP error or a refused connection raises
# and exits non-zero. The worker serves no HTTP, so docker-compose.yml disables this check for it
# (Render and Railway run their own checks and ignore HEALTHCHECK).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

# Exec form: `studio` is PID 1 and receives SIGTERM itself (uvicorn drains, the worker releases
# its job). No ENTRYPOINT, so a platform's start command (Render `dockerCommand`, Railway
# `startCommand`) replaces this whole command whichever way it overrides.
CMD ["studio", "api"]
