#!/usr/bin/env bash
# Webhook storm against openclaw-remediator: 50 concurrent senders post
# 10,000 realistic Alertmanager payloads (10 alerts each, 30% repeats) over
# loopback, against the remediator with its durable (fsync) journal and
# against a handler that only decodes the JSON and answers 200 (the floor),
# in the same run. ROUNDS runs (default 5), each with a fresh remediator and
# journal, alternate which of the two goes first; the script prints every
# run and the medians of the p99s and of the per-run p99 ratio, with the
# lowest and highest. Target: p99 within 2x of the floor, and zero duplicate
# actions (the benchmark fails otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-${1:-5}}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run='^$' -bench=WebhookStorm -benchtime=1x -count="$rounds" ./remediator/ | tee "$out" |
	grep -v -e '^goos' -e '^goarch' -e '^pkg' -e '^cpu' -e '^PASS' -e '^ok'
# metric VALUE UNIT pairs of each BenchmarkWebhookStorm line
col() { awk -v u="$1" '/^BenchmarkWebhookStorm/ {for (i=1;i<NF;i++) if ($(i+1)==u) print $i}' "$out"; }
med() { sort -g | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s (%s-%s, %d runs)", m, a[1], a[NR], NR}'; }
echo "floor p99 µs:           median $(col floor-p99-µs | med)"
echo "remediator p99 µs:      median $(col p99-µs | med)"
echo "p99 ratio, per run:     median $(col p99-ratio | med) (target <= 2)"
echo "remediator req/s:       median $(col req/s | med)"
