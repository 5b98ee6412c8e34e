# livesupport in a container: the wheel is built in one stage and installed in the next, so the image holds the
# installed package and its dependencies, not the checkout. `docker compose up` (compose.yaml) runs a whole
# deployment; alone, `docker run -p 8000:8000 -v livesupport-data:/data <image>` is the one-machine set-up.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY livesupport ./livesupport
COPY templates ./templates
COPY static ./static
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data
COPY --from=build /wheels /wheels
RUN pip install /wheels/livesupport-*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home --home-dir /data livesupport \
    && mkdir /data \
    && chown livesupport /data
USER livesupport
WORKDIR /data
# The SQLite file (without DATABASE_URL), the generated secret key (without SECRET_KEY) and the attachments.
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["livesupport", "serve", "--host", "0.0.0.0", "--port", "8000"]
