# The lab's Python services in one image: Arcade (web), the load generator, Arcade's schema and
# seed (seed), the lab's Toxiproxy-compatible proxy (`/toxiproxy`, used where the Toxiproxy image
# cannot be had) and the compose stack's fault watchdog (the lab itself, with Debian's Compose CLI
# for the reverts that recreate a service). Build context: the repository root.
#
#   default                PYTHON_IMAGE=python:3.11-slim, packages from the package index
#   gameday images build --offline
#                          PYTHON_IMAGE=<the debootstrapped base>, Debian's python3, and wheels
#                          built on the host (docker/wheels/), no package index needed
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS runtime
RUN set -eux; \
    if ! command -v python3 >/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3; \
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log; \
    fi; \
    if ! command -v docker-compose >/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-compose; \
      rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log; \
    fi

FROM runtime AS build
COPY docker/lab-requirements.txt /tmp/requirements.txt
COPY docker/wheels/ /tmp/wheels/
RUN set -eux; \
    if ! python3 -c 'import ensurepip' 2>/dev/null; then \
      apt-get update; \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv; \
    fi; \
    python3 -m venv /opt/lab; \
    if ls /tmp/wheels/*.whl >/dev/null 2>&1; then \
      /opt/lab/bin/pip install --no-cache-dir --no-index --find-links /tmp/wheels -r /tmp/requirements.txt; \
    else \
      /opt/lab/bin/pip install --no-cache-dir -r /tmp/requirements.txt; \
    fi; \
    /opt/lab/bin/pip uninstall -y pip setuptools >/dev/null 2>&1 || true

FROM runtime
COPY --from=build /opt/lab /opt/lab
COPY docker/lab/http-ok docker/lab/toxiproxy docker/lab/toxiproxy-cli /usr/local/bin/
RUN ln -s /usr/local/bin/toxiproxy /toxiproxy && ln -s /usr/local/bin/toxiproxy-cli /toxiproxy-cli && \
    install -d -o nobody -m 0755 /var/lib/arcade/prom
COPY lab /app/lab
COPY services/web/arcade /app/arcade
COPY services/loadgen/loadgen /app/loadgen
ENV PATH=/opt/lab/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER nobody
EXPOSE 8000 9100 8474
CMD ["gunicorn", "-c", "python:arcade.gunicorn_conf", "--bind", "0.0.0.0:8000", "arcade:create_app()"]
