# One image for every process type; compose.yaml (or the Procfile) picks the command.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 invex
WORKDIR /app
# EXTRAS=easyocr (docker build --build-arg EXTRAS=easyocr) adds the EasyOCR engine (torch).
ARG EXTRAS=""
COPY requirements.lock requirements-easyocr.lock ./
RUN pip install --no-deps -r requirements.lock \
    && if [ "$EXTRAS" = "easyocr" ]; then pip install --no-deps -r requirements-easyocr.lock; fi
COPY pyproject.toml README.md ./
COPY api ./api
COPY common ./common
COPY workers ./workers
COPY migrations ./migrations
RUN pip install --no-deps --no-build-isolation -e .
USER invex
EXPOSE 8000
CMD ["gunicorn", "api.wsgi:app", "--bind", "0.0.0.0:8000", "--workers", "2", \
     "--worker-class", "gthread", "--threads", "8", "--access-logfile", "-"]
