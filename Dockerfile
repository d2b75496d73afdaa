# Multi-stage build of the single `hubsync` binary; every Compose service runs it with a
# different subcommand.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin hubsync

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 hubsync
COPY --from=build /src/target/release/hubsync /usr/local/bin/hubsync
USER hubsync
ENTRYPOINT ["hubsync"]
