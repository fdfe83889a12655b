# One image for every `ers` process (the Procfile's): the worker, the scheduler, each intake
# channel and the metrics endpoint differ only in their command.
FROM python:3.11-slim

# DejaVu Sans draws every letter of pupils' and schools' names in the report PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
COPY config ./config
COPY intake ./intake
COPY models ./models
COPY reports ./reports
COPY workers ./workers
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 ers \
    && mkdir -p /data \
    && chown ers /data

USER ers
ENV ERS_DATA_DIR=/data \
    ERS_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME /data
CMD ["ers", "--help"]
