# clawwatch: openclaw-exporter, openclaw-remediator and openclaw-gatewaysim in
# one image; docker-compose.yml picks the command per service.
# cgo stays on so the exporter can load NVML on GPU hosts.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations"
RUN go build -trimpath -o /out/ ./cmd/...

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
COPY testdata/reasoning/ /usr/share/clawwatch/reasoning/
# Named volumes start with the ownership of these directories.
RUN mkdir -p /var/lib/openclaw /var/log/openclaw /var/lib/openclaw-remediator \
	&& chown 65534:65534 /var/lib/openclaw /var/log/openclaw
# Runs as root only where a service needs it (the remediator with the Docker
# socket); compose sets the user per service.
USER 65534:65534
ENTRYPOINT []
