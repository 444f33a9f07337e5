#!/usr/bin/env bash
# Log tail throughput: the exporter's tailer and counter over a tslog file,
# next to `grep -c -F` with the same default patterns on the same file, in
# one run. Both read the file from the page cache; both are timed as CPU
# time (user + system) of their process, in MiB/s (2^20 bytes) on both
# sides. The two alternate, ROUNDS times (default 7, grep first in odd
# rounds, ours first in even ones); the script prints each round's ratio and
# the median with the lowest and highest.
# Usage: bench/logtail.sh [size in MiB, default 1024]  (ROUNDS=n)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
rounds=${ROUNDS:-7}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
log="$dir/openclaw-2026-11-20.log"
sample=testdata/tslog/openclaw-2026.9.6.log
cp "$sample" "$log"
while (($(stat -c %s "$log") < size_mib * 1048576)); do # doubling: a few dozen writes, not thousands of forks
	cat "$log" "$log" >"$dir/next" && mv "$dir/next" "$log"
done
# whole lines only: cut at the size, drop the partial last line
head -c $((size_mib * 1048576)) "$log" | sed '$d' >"$dir/next" && mv "$dir/next" "$log"
bytes=$(stat -c %s "$log")
cat "$log" >/dev/null # both read from the page cache

# The tail as a scrape runs it, from a test binary built once.
go test -c -o "$dir/logs.test" ./exporter/logs/
patterns=(-e "liveness warning" -e "memory pressure: level=critical" -e "health-monitor: restarting"
	-e "auto-restart attempt" -e "giving up after" -e EADDRINUSE -e EMFILE -e EBADF -e "heap out of memory"
	-e OutOfMemoryError -e ModelNotResponding -e InvalidAPIResponse)

# cpu_s CMD...: runs CMD, prints its user+system CPU seconds.
cpu_s() {
	/usr/bin/time -f '%U %S' -o "$dir/time" "$@" >"$dir/out" 2>&1
	awk '{printf "%.4f", $1 + $2}' "$dir/time"
}
grep_run() {
	# not >/dev/null: GNU grep stops at the first match when its output is /dev/null
	cpu_s sh -c 'grep -c -F "$@" >'"$dir/count"' || true' grep "${patterns[@]}" "$log"
}
ours_run() {
	CLAWWATCH_BENCH_LOG="$log" cpu_s "$dir/logs.test" -test.run '^$' -test.bench '^BenchmarkTailFile$' -test.benchtime 1x
}

echo "file: $((bytes / 1048576)) MiB of real gateway tslog lines; $rounds rounds, alternated"
ratios=() ours_all=() grep_all=()
for r in $(seq "$rounds"); do
	if ((r % 2)); then g=$(grep_run); o=$(ours_run); else o=$(ours_run); g=$(grep_run); fi
	read -r om gm ratio < <(awk -v b="$bytes" -v o="$o" -v g="$g" 'BEGIN{m=b/1048576; printf "%.0f %.0f %.3f\n", m/o, m/g, (m/o)/(m/g)}')
	echo "round $r: openclaw-exporter tail ${om} MiB/s, grep -c -F ${gm} MiB/s, ratio ${ratio}"
	ratios+=("$ratio") ours_all+=("$om") grep_all+=("$gm")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%s (%s-%s)", m, a[1], a[NR]}'; }
echo "openclaw-exporter tail (levels + 11 named patterns): median $(med "${ours_all[@]}") MiB/s"
echo "grep -c -F (the same 12 strings):                    median $(med "${grep_all[@]}") MiB/s"
echo "ratio (exporter/grep), per round:                    median $(med "${ratios[@]}") (target >= 1)"
