#!/usr/bin/env bash
# Webhook storm against openclaw-remediator: 50 concurrent senders post
# 10,000 realistic Alertmanager payloads (10 alerts each, 30% repeats) over
# loopback. The same run measures a handler that only decodes the JSON and
# answers 200, and prints p50/p99 ack latency, requests/s and the ratios.
# Target: p99 within 5x of that floor with the durable (fsync) journal, and
# zero duplicate actions (the benchmark fails otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run='^$' -bench=WebhookStorm -benchtime=1x -count="${1:-1}" ./remediator/ |
	grep -v -e '^goos' -e '^goarch' -e '^pkg' -e '^cpu' -e '^PASS' -e '^ok'
