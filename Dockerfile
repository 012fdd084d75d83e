# One image for every role of a deployment: cluster workers (scrapy work), the scheduler (scrapy schedule), seeding
# and reports. Built from the repository root: docker build -t linkprospector .
# Dependencies come pinned and hashed from requirements.lock (regenerate with infra/lock.sh), then the project
# itself without its dependencies, so a rebuild installs exactly the same packages.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml README.md scrapy.cfg ./
COPY crawler ./crawler
COPY pipelines ./pipelines
COPY schemas ./schemas
COPY demo ./demo
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# A user without privileges; /lake and /reports are where compose mounts its volumes (a new named volume takes the
# owner of the folder it is mounted on, so the workers can write there).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin linkprospector \
    && mkdir -p /lake /reports \
    && chown linkprospector /lake /reports
USER 10001

# The commands read scrapy.cfg from the working folder (/app). Every role gives its own command.
CMD ["scrapy", "list"]
