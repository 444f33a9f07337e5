#!/usr/bin/env bash
# Time to recovery of the whole loop: the simulator hangs with its port open,
# Prometheus (real, the mixin's rules) fires OpenClawGatewayHung, Alertmanager
# (real) routes it to the remediator, which restarts and verifies the gateway.
# Runs the hung-gateway end-to-end test RUNS times per profile and prints the
# median and worst seconds from the fault to each step.
#
#   bench/mttr.sh                      # demo timings (5 runs) and production (3 runs)
#   RUNS=3 PROFILES=demo bench/mttr.sh
#
# Needs the pinned tools (`make tools`); CLAWWATCH_TOOLS_DIR points at them.
set -euo pipefail
cd "$(dirname "$0")/.."
profiles=${PROFILES:-demo production}
: "${CLAWWATCH_TOOLS_DIR:=$(make -s -f Makefile print-tools-dir)}"
export CLAWWATCH_TOOLS_DIR
export CGO_CFLAGS=${CGO_CFLAGS:--O2 -g -Wno-deprecated-declarations}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/e2e.test" ./e2e/ >/dev/null

for profile in $profiles; do
	runs=${RUNS:-$([ "$profile" = production ] && echo 3 || echo 5)}
	out=$(mktemp)
	for i in $(seq "$runs"); do
		(cd e2e && CLAWWATCH_LOOP_PROFILE=$profile "$bin/e2e.test" \
			-test.run '^TestLoopHungGateway$' -test.v -test.timeout 30m) |
			grep -o 'MTTR profile=.*' | tee -a "$out" >&2
	done
	python3 - "$profile" "$out" <<'PY'
import re, statistics, sys
profile, path = sys.argv[1], sys.argv[2]
rows = [dict((k, float(v)) for k, v in re.findall(r'(\w+)=([0-9.]+)', l)) for l in open(path)]
print(f"\n{profile}: {len(rows)} runs, seconds from the fault")
print(f"{'step':<12} {'median':>8} {'worst':>8}")
for step in ['firing', 'received', 'action_done', 'healthy', 'resolved']:
    vals = [r[step] for r in rows]
    print(f"{step:<12} {statistics.median(vals):>8.1f} {max(vals):>8.1f}")
PY
	rm -f "$out"
done
