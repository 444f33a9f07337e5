package remediator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/remediator"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The storm of the issue: 50 concurrent senders, 10,000 requests of 10
// alerts each, 30% of the alerts repeats of ones already sent.
const (
	stormSenders    = 50
	stormRequests   = 10_000
	stormAlerts     = 10
	stormDupShare   = 0.3
	stormTargets    = 10
	stormActionable = 0.02 // share of new alerts that ask for an action
)

// stormBodies builds the payloads, deterministically. Most alerts of a
// storm ask for nothing (remediation="none"); a few ask for cleanup_locks,
// a real action on one of ten targets.
func stormBodies() (bodies [][]byte, actionable map[string]bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	type sent struct{ fp, remediation, gateway string }
	var pool []sent
	actionable = map[string]bool{}
	for i := range stormRequests {
		var alerts []string
		for a := range stormAlerts {
			var s sent
			if len(pool) > 0 && rng.Float64() < stormDupShare {
				s = pool[rng.IntN(len(pool))]
			} else {
				s = sent{fp: fmt.Sprintf("%016x", rng.Uint64()), remediation: "none", gateway: fmt.Sprintf("gw%d", (i+a)%stormTargets)}
				if rng.Float64() < stormActionable {
					s.remediation = "cleanup_locks"
					actionable[journal.ID(s.fp, start)] = true
				}
				pool = append(pool, s)
			}
			alerts = append(alerts, fmt.Sprintf(`{"status":"firing","labels":{"alertname":"OpenClawStorm","gateway":%q,"instance":"localhost:9787","job":"openclaw","remediation":%q,"severity":"warning"},"annotations":{"summary":"Storm alert.","description":"One of many alerts of a storm."},"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=up","fingerprint":%q}`,
				s.gateway, s.remediation, start.Format(time.RFC3339Nano), s.fp))
		}
		bodies = append(bodies, []byte(fmt.Sprintf(`{"receiver":"openclaw-remediator","status":"firing","alerts":[%s],"groupLabels":{"alertname":"OpenClawStorm"},"commonLabels":{"alertname":"OpenClawStorm","job":"openclaw"},"commonAnnotations":{},"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{alertname=\"OpenClawStorm\"}","truncatedAlerts":0}`,
			strings.Join(alerts, ","))))
	}
	return bodies, actionable
}

type stormResult struct {
	p50, p99 time.Duration
	rps      float64
}

// storm posts every body from stormSenders goroutines over keep-alive
// connections and measures each request from send to answer.
func storm(b *testing.B, url string, bodies [][]byte) stormResult {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: stormSenders}}
	lat := make([]time.Duration, len(bodies))
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range stormSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				resp, err := client.Post(url, "application/json", bytes.NewReader(bodies[i]))
				if err != nil {
					b.Error(err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	for i := range bodies {
		next <- i
	}
	close(next)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return stormResult{p50: lat[len(lat)/2], p99: lat[len(lat)*99/100], rps: float64(len(bodies)) / elapsed.Seconds()}
}

// stormRuns counts the benchmark's runs (-count), to alternate the order.
var stormRuns atomic.Int32

// BenchmarkWebhookStorm runs the storm once against a handler that only
// decodes the JSON and answers 200 (the floor), then against the remediator
// with its durable journal, and reports both and their ratio. Run it with
// -benchtime=1x and -count=N (a fresh remediator and journal each run: a
// second storm in the same run would meet only duplicates);
// bench/webhook_storm.sh does, and takes the median of the runs.
func BenchmarkWebhookStorm(b *testing.B) {
	bodies, actionable := stormBodies()
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m webhook.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer floor.Close()

	dir := b.TempDir()
	var targets strings.Builder
	for i := range stormTargets {
		fmt.Fprintf(&targets, "  - {name: gw%d, state_dir: %s/gw%d, driver: {kind: process, start: [/bin/true]}}\n", i, dir, i)
	}
	cfg, err := config.Parse([]byte("targets:\n"+targets.String()), dir, actions.ConfigSpecs())
	if err != nil {
		b.Fatal(err)
	}
	j, err := journal.Open(cfg.Journal.Path, journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	reg := prometheus.NewRegistry()
	rem, err := remediator.New(cfg, j, reg, promslog.NewNopLogger(), remediator.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := rem.Start(); err != nil {
		b.Fatal(err)
	}
	defer rem.Close()
	srv := httptest.NewServer(rem.Handler(nil))
	defer srv.Close()

	b.ResetTimer()
	for range b.N {
		// Alternate which storm runs first across -count runs (the second
		// meets a machine the first has warmed, or left busy).
		var f, r stormResult
		if stormRuns.Add(1)%2 == 0 {
			r = storm(b, srv.URL+"/api/v1/alerts", bodies)
			f = storm(b, floor.URL, bodies)
		} else {
			f = storm(b, floor.URL, bodies)
			r = storm(b, srv.URL+"/api/v1/alerts", bodies)
		}
		b.ReportMetric(float64(f.p99.Microseconds()), "floor-p99-µs")
		b.ReportMetric(float64(r.p99.Microseconds()), "p99-µs")
		b.ReportMetric(float64(r.p99)/float64(f.p99), "p99-ratio")
		b.ReportMetric(r.rps, "req/s")
		b.Logf("\n%-34s %10s %10s %10s\n%-34s %10s %10s %10.0f\n%-34s %10s %10s %10.0f\n%-34s %10.1fx %9.1fx %10.2fx",
			"storm: 50 senders, 10,000 requests", "p50", "p99", "req/s",
			"decode JSON + 200 (floor)", f.p50.Round(time.Microsecond), f.p99.Round(time.Microsecond), f.rps,
			"remediator, bbolt journal, fsync", r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.rps,
			"ratio remediator/floor", float64(r.p50)/float64(f.p50), float64(r.p99)/float64(f.p99), r.rps/f.rps)
	}
	b.StopTimer()

	// Zero duplicate actions: every actionable incident acted on exactly
	// once, however often it was delivered.
	simtest.Eventually(b, 5*time.Minute, func() error {
		if !rem.Incidents().Idle() {
			return fmt.Errorf("runners still busy")
		}
		return nil
	})
	var acted float64
	for i := range stormTargets {
		acted += remtest.Value(b, reg, "openclaw_remediator_actions_total", "action", "cleanup_locks", "target", fmt.Sprintf("gw%d", i), "result", journal.ResultSuccess)
	}
	incs, err := j.List(journal.Filter{Action: "cleanup_locks", Limit: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	for _, inc := range incs {
		if len(inc.Actions) != 1 || !actionable[inc.ID] {
			b.Fatalf("incident %s: %d actions", inc.ID, len(inc.Actions))
		}
	}
	if int(acted) != len(actionable) || len(incs) != len(actionable) {
		b.Fatalf("%v actions for %d actionable incidents (%d journaled)", acted, len(actionable), len(incs))
	}
	dups := remtest.Value(b, reg, "openclaw_remediator_incidents_total", "decision", journal.DecisionDuplicate)
	b.Logf("%d actionable incidents, %v actions (0 duplicate actions); %v duplicate deliveries recognised", len(actionable), acted, dups)
}
