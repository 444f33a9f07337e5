# clawwatch: openclaw-exporter, openclaw-remediator and openclaw-gatewaysim in
# one image; docker-compose.yml picks the command per service.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# make build stamps the version (VERSION file), revision, branch and build
# date into --version and *_build_info. The context has no .git: pass the
# revision and branch as build arguments (make docker does).
ARG REVISION
ARG BRANCH
# cgo stays on so the exporter can load NVML on GPU hosts.
RUN make build BIN_DIR=/out

FROM debian:bookworm-slim
# CA certificates for HTTPS model servers and gateways, from the build stage:
# nothing is downloaded in this one.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/ /usr/local/bin/
COPY testdata/reasoning/ /usr/share/clawwatch/reasoning/
# Named volumes start with the ownership of these directories.
RUN mkdir -p /var/lib/openclaw /var/log/openclaw /var/lib/openclaw-remediator \
	&& chown 65534:65534 /var/lib/openclaw /var/log/openclaw
# Runs as root only where a service needs it (the remediator with the Docker
# socket); compose sets the user per service.
USER 65534:65534
ENTRYPOINT []
