# The demo datastorage image, in the shape of Kubernaut's docker/data-storage.Dockerfile (reference §5.1):
# a go-toolset builder stage and a ubi-minimal runtime stage, both from Red Hat's registry (ADR-028).
# Build context: demo/. Without a registry the test world passes local stand-ins:
#   --build-arg BUILDER_IMAGE=localhost/kdoctor-world/go-toolset:1 --build-arg RUNTIME_IMAGE=localhost/kdoctor-world/ubi-minimal:1
# Coverage builds pass --build-arg GOFLAGS=-cover (DD-TEST-007): no -s -w, so `go tool covdata` can map counters.
ARG BUILDER_IMAGE=registry.access.redhat.com/ubi9/go-toolset:1.22
ARG RUNTIME_IMAGE=registry.access.redhat.com/ubi9/ubi-minimal:latest

FROM ${BUILDER_IMAGE} AS builder
# TARGETARCH is set by the engine for the platform being built; GOARCH follows it (or the caller's --build-arg GOARCH),
# never a fixed value, so an arm64 Mac builds arm64 and nothing runs under emulation.
ARG TARGETARCH
ARG GOOS=linux
ARG GOARCH=${TARGETARCH}
ARG GOFLAGS=""
USER 1001
WORKDIR /opt/app-root/src
COPY --chown=1001:0 . .
# Standard library only: the build needs no module download (GOFLAGS=-mod=mod would change nothing here).
RUN ldflags="-s -w"; if [ -n "${GOFLAGS}" ]; then ldflags=""; fi; \
    CGO_ENABLED=0 GOOS=${GOOS} GOARCH=${GOARCH} GOFLAGS="${GOFLAGS}" \
    go build -ldflags="${ldflags}" -o /opt/app-root/src/bin/datastorage ./cmd/datastorage

FROM ${RUNTIME_IMAGE}
COPY --from=builder /opt/app-root/src/bin/datastorage /usr/local/bin/datastorage
USER 1001
EXPOSE 8080 8081 9090
# Needs CONFIG_PATH (a JSON config) at start-up, like Kubernaut's DataStorage (ADR-030).
# `serve` by default; the migrations Job runs the same image with args ["migrate"].
ENTRYPOINT ["/usr/local/bin/datastorage"]
CMD ["serve"]
