# Stand-in for the prom/prometheus image docker-compose.yml names, for a host
# that cannot pull it: the upstream image's layout (binaries in /bin, data in
# /prometheus owned by nobody, prometheus as the entrypoint) around the
# pinned binaries `make tools` builds, on the local Debian base.
# stack-test.sh builds it with those two binaries as the context.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY prometheus promtool /bin/
RUN mkdir -p /etc/prometheus /prometheus && chown 65534:65534 /etc/prometheus /prometheus
USER 65534:65534
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
