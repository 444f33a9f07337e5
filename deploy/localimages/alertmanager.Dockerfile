# Stand-in for the prom/alertmanager image docker-compose.yml names, for a
# host that cannot pull it: the upstream image's layout (binaries in /bin,
# data in /alertmanager owned by nobody, alertmanager as the entrypoint)
# around the pinned binaries `make tools` builds, on the local Debian base.
# stack-test.sh builds it with those two binaries as the context.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
COPY alertmanager amtool /bin/
RUN mkdir -p /etc/alertmanager /alertmanager && chown 65534:65534 /etc/alertmanager /alertmanager
USER 65534:65534
EXPOSE 9093
VOLUME ["/alertmanager"]
WORKDIR /alertmanager
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
