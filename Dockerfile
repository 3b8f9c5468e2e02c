FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=gateway.settings.production \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
WORKDIR /app

COPY pyproject.toml README.md ./
COPY accounts accounts
COPY adminpanel adminpanel
COPY billing billing
COPY chat chat
COPY gateway gateway
COPY routing routing
COPY simulator simulator
COPY usage usage
RUN pip install --no-cache-dir .

COPY . .
# collectstatic needs settings but no database or Redis: point them at placeholders.
RUN SECRET_KEY=collectstatic-only-$(printf '%050d' 0) DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput

RUN useradd --create-home switchboard && mkdir -p /app/media && chown switchboard /app/media
USER switchboard
EXPOSE 8000
ENV HOST=0.0.0.0 PORT=8000
CMD ["honcho", "start", "-f", "Procfile", "web"]
