# One image for every process of CoffeeShop: the API and the four workers. Pick one with the
# command, e.g. `docker run coffeeshop api` or `docker run coffeeshop warehouse`.

# --- build ---------------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
# protoc: the Temporal SDK compiles its protobuf definitions.
RUN apt-get update \
    && apt-get install -y --no-install-recommends protobuf-compiler \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin api --bin cafe --bin warehouse --bin kitchen --bin customercenter \
    && mkdir /out \
    && cp target/release/api target/release/cafe target/release/warehouse target/release/kitchen target/release/customercenter /out/

# --- run -----------------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates for TLS to a hosted Temporal; curl for the container health checks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin coffeeshop \
    && mkdir /data && chown coffeeshop /data
COPY --from=build /out/ /usr/local/bin/
USER 10001
# The API's port; workers answer /healthz and /readyz on COFFEESHOP_HEALTH_PORT.
EXPOSE 8080 8091
# A container listens on all its interfaces (the default, 127.0.0.1, answers only the machine
# itself); the compose file and the Kubernetes manifests decide who can reach it.
ENV RUST_LOG=info COFFEESHOP_BIND=0.0.0.0
CMD ["api"]
