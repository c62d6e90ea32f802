# Waypost in a container: the demo guidance, served on port 8000, as a
# non-root user, with the instance folder (bundles, trust root, state, log)
# in the /data volume.
#   docker build -t waypost . && docker run -p 8000:8000 -v waypost-data:/data waypost
# tests/test_docker.py runs these steps outside a container engine.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WAYPOST_INSTANCE_PATH=/data \
    WAYPOST_CONTENT_DIR=/srv/waypost/content \
    WAYPOST_TRANSLATIONS_DIR=/srv/waypost/translations \
    WAYPOST_SERVICE_WORKER=/srv/waypost/service_worker/sw.js

WORKDIR /srv/waypost
# The locked versions first (this layer is cached until the lock changes),
# then Waypost itself without resolving anything again.
COPY requirements/runtime.txt requirements/runtime.txt
COPY requirements/build.txt requirements/build.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt -r requirements/build.txt
# The wheel carries the demo content, the catalogs, the service worker and
# the kiosk's deploy files (app/_data/), so they are copied before it is built.
COPY pyproject.toml README.md ./
COPY app ./app
COPY content ./content
COPY translations ./translations
COPY service_worker ./service_worker
COPY deploy ./deploy
RUN pip install --no-cache-dir --no-deps --no-build-isolation .

RUN useradd --system --uid 10001 --home-dir /data waypost \
    && mkdir -p /data && chown waypost /data
USER waypost
# Build the bundle into the image; a fresh empty volume on /data gets one
# built on first start instead.
RUN waypost build content -o /data/waypost.bundle

VOLUME ["/data"]
EXPOSE 8000
CMD ["waypost", "serve", "--host", "0.0.0.0", "--port", "8000"]
