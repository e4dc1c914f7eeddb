FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_PATH=/data/loyalty.db

RUN useradd --create-home --uid 10001 loyalty \
    && mkdir /data && chown loyalty:loyalty /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install .

USER loyalty
VOLUME ["/data"]
CMD ["loyalty-bot", "run"]
