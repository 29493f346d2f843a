# Build stage: compile the release binary.
FROM rust:1-slim-bookworm AS build
# jemalloc (the allocator, docs/decisions.md) is built from C with make.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY config ./config
COPY migrations ./migrations
# Cargo.toml declares the benchmark target: the manifest does not load without its file.
COPY benches ./benches
RUN cargo build --release --locked --bin oneonone

# Runtime stage: a slim image, a non-root user, the SQLite data under /data.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /data --shell /usr/sbin/nologin oneonone \
    && mkdir -p /data && chown oneonone /data
COPY --from=build /src/target/release/oneonone /usr/local/bin/oneonone
USER oneonone
WORKDIR /data
VOLUME ["/data"]
# Configuration comes from the environment (ONEONONE__SECTION__KEY) or a mounted file
# (ONEONONE_CONFIG=/etc/oneonone/config.toml).
ENV ONEONONE__SERVER__LISTEN=0.0.0.0:8080 \
    ONEONONE__DATABASE__URL=sqlite:///data/oneonone.db \
    ONEONONE__SECRETS__KEY_FILE=/data/secret.key \
    ONEONONE__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["oneonone"]
CMD ["run"]
