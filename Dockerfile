# syntax=docker/dockerfile:1
# The image the Helm chart runs (charts/meshconfig-webhook, image.repository
# ghcr.io/meshconfig-webhook/meshconfig-webhook, tag = the chart's appVersion = the crate version):
#   docker build -t ghcr.io/meshconfig-webhook/meshconfig-webhook:0.1.0 .

# Build stage: the same Debian release as the runtime image, so the glibc the binary links
# against is the one it runs with.
FROM rust:1-bookworm AS builder
WORKDIR /src
# Only what `cargo build` reads (see .dockerignore); benches/ because Cargo.toml declares a bench
# target, which cargo checks exists even for a plain build.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
# --locked: exactly the dependency versions in Cargo.lock. The cache mounts keep the registry and
# target directory between builds without putting them into a layer.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/meshconfig-webhook /out/meshconfig-webhook

# Runtime: distroless with glibc and libgcc (what a Rust binary needs), no shell, no package
# manager. The :nonroot variant's user is 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/meshconfig-webhook /usr/local/bin/meshconfig-webhook
# Numeric, so that the kubelet can check runAsNonRoot (a user name cannot be verified).
# The chart sets no runAsUser, so OpenShift's restricted SCC may run it under another UID;
# the binary only reads its mounted certificate files, which works under any UID.
USER 65532:65532
# 8443: HTTPS admission (/validate); 9090: plain-HTTP admin (/healthz, /readyz, /metrics).
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/meshconfig-webhook"]
CMD ["serve"]
