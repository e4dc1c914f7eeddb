FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 loyalty

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY sandbox ./sandbox
RUN pip install . && rm -rf /src

# The bot runs in /app, and /app/data is the volume. The default DATABASE_PATH
# (./data/loyalty.db) is therefore on the volume, and so is an .env that repeats it:
# members survive when the container is replaced.
WORKDIR /app
RUN mkdir data && chown loyalty:loyalty data
USER loyalty
VOLUME ["/app/data"]

# Healthy while the bot's heartbeat (written every 30 s by the running bot) is fresh.
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["loyalty-bot", "health"]
CMD ["loyalty-bot", "run"]
