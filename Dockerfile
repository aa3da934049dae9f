FROM python:3.11-slim-bookworm

# WeasyPrint's system libraries and a font for PDF reports.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY config config
COPY lenses lenses
COPY reviews reviews
RUN pip install --no-cache-dir .
COPY . .

ENV DEBUG=0 ARCHLENS_VAR_DIR=/data PYTHONUNBUFFERED=1
# Static files are collected into the image (with their manifest) and served by WhiteNoise.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input

RUN useradd --system --home /app archlens && mkdir -p /data/media && chown -R archlens /data
USER archlens
EXPOSE 8000
# gunicorn reads its settings from gunicorn.conf.py in /app.
CMD ["gunicorn", "--bind", "0.0.0.0:8000"]
