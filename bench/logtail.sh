#!/usr/bin/env bash
# Log tail throughput: the exporter's tailer and counter over a tslog file,
# next to `grep -c -F` with the same default patterns on the same file, in
# one run. Usage: bench/logtail.sh [size in MiB, default 1024]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
log="$dir/openclaw-2026-11-20.log"
sample=testdata/tslog/openclaw-2026.9.6.log
while (( $(stat -c %s "$log" 2>/dev/null || echo 0) < size_mib * 1048576 )); do
	for _ in $(seq 200); do cat "$sample"; done >>"$log"
done
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null # both read from the page cache

patterns=(-e "liveness warning" -e "memory pressure: level=critical" -e "health-monitor: restarting"
	-e "auto-restart attempt" -e "giving up after" -e EADDRINUSE -e EMFILE -e EBADF -e "heap out of memory"
	-e OutOfMemoryError -e ModelNotResponding -e InvalidAPIResponse)
best=""
for _ in 1 2 3; do
	start=$(date +%s%N)
	# not >/dev/null: GNU grep stops at the first match when its output is /dev/null
	grep -c -F "${patterns[@]}" "$log" >"$dir/count" || true
	t=$(( $(date +%s%N) - start ))
	[[ -z $best || $t -lt $best ]] && best=$t
done
grep_mbs=$(awk -v b="$bytes" -v ns="$best" 'BEGIN{printf "%.0f", b/1048576/(ns/1e9)}')

ours_mbs=$(CLAWWATCH_BENCH_LOG="$log" go test -run XXX -bench BenchmarkTailFile -benchtime 3x ./exporter/logs/ |
	awk '/BenchmarkTailFile/ {for (i=1;i<=NF;i++) if ($(i+1)=="MB/s") printf "%.0f", $i}')
echo "file: $((bytes / 1048576)) MiB of real gateway tslog lines"
echo "grep -c -F (12 patterns): ${grep_mbs} MB/s"
echo "openclaw-exporter tail:   ${ours_mbs} MB/s (levels + 11 named patterns)"
awk -v o="$ours_mbs" -v g="$grep_mbs" 'BEGIN{printf "ratio (exporter/grep):    %.2f (target >= 0.5)\n", o/g}'
