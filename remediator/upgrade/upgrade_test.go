package upgrade

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/remediator/actions"
)

const defaultPattern = `^[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,2}(-[0-9A-Za-z.]{1,32})?$`

// Versions are data: every hostile one is refused before an argv exists,
// whatever a careless pattern would allow.
func TestHostileVersionsRefused(t *testing.T) {
	strict := regexp.MustCompile(defaultPattern)
	careless := regexp.MustCompile(`^.*$`)
	cmd := []string{"openclaw", "update", "--tag", "{version}", "--yes"}
	for _, v := range []string{
		"2026.9.6; rm -rf /", "--help", "$(id)", "2026.9.6\n--yes", "`id`", "2026.9.6 && id",
		strings.Repeat("9", 200), "", "../../etc/passwd", "2026.9.6\x00", "-1",
	} {
		for _, re := range []*regexp.Regexp{strict, careless} {
			if careless == re && (v == "$(id)" || v == "`id`" || v == "2026.9.6 && id" || v == "2026.9.6; rm -rf /") {
				continue // ^.*$ lets these through; the pattern is the operator's
			}
			argv, err := Argv(cmd, v, re)
			if !errors.Is(err, actions.ErrBadVersion) || argv != nil {
				t.Errorf("version %q with %s: argv %q, err %v; want refused", v, re, argv, err)
			}
		}
	}
}

func TestArgvOneElement(t *testing.T) {
	re := regexp.MustCompile(defaultPattern)
	argv, err := Argv([]string{"openclaw", "update", "--tag", "{version}", "--yes"}, "2026.9.6-beta.1", re)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"openclaw", "update", "--tag", "2026.9.6-beta.1", "--yes"}; !slices.Equal(argv, want) {
		t.Errorf("argv %q, want %q", argv, want)
	}
}

func TestBatches(t *testing.T) {
	for _, tc := range []struct {
		targets []string
		size    int
		want    [][]string
	}{
		{[]string{"a", "b", "c"}, 1, [][]string{{"a"}, {"b"}, {"c"}}},
		{[]string{"a", "b", "c"}, 2, [][]string{{"a", "b"}, {"c"}}},
		{[]string{"a", "b"}, 5, [][]string{{"a", "b"}}},
		{[]string{"a", "b"}, 0, [][]string{{"a"}, {"b"}}},
		{nil, 1, nil},
	} {
		got := Batches(tc.targets, tc.size)
		if !slices.EqualFunc(got, tc.want, slices.Equal) {
			t.Errorf("Batches(%v, %d) = %v, want %v", tc.targets, tc.size, got, tc.want)
		}
	}
}

// fakeProm answers instant queries from a map of query → samples.
type fakeProm struct {
	mu      sync.Mutex
	answers map[string][]map[string]any
	queries []string
}

func (f *fakeProm) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query().Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, q)
	res := f.answers[q]
	f.mu.Unlock()
	if res == nil {
		res = []map[string]any{}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{"resultType": "vector", "result": res}})
}

func sample(value string, labels map[string]string) map[string]any {
	return map[string]any{"metric": labels, "value": []any{1700000000.0, value}}
}

func TestObserve(t *testing.T) {
	const alerts = `ALERTS{alertstate="firing",gateway="{target}"}`
	const ratio = `min(openclaw_reasoning_pass_ratio{gateway="{target}"})`
	for _, tc := range []struct {
		name    string
		answers map[string][]map[string]any
		wantErr string
	}{
		{"quiet", map[string][]map[string]any{`min(openclaw_reasoning_pass_ratio{gateway="b"})`: {sample("0.9", nil)}}, ""},
		{"firing", map[string][]map[string]any{`ALERTS{alertstate="firing",gateway="b"}`: {sample("1", map[string]string{"alertname": "OpenClawGatewayDown"})}}, "target b: firing alerts [OpenClawGatewayDown]"},
		{"degraded", map[string][]map[string]any{`min(openclaw_reasoning_pass_ratio{gateway="a"})`: {sample("0.5", nil)}}, "target a: reasoning pass ratio 0.5 below 0.8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeProm{answers: tc.answers})
			defer srv.Close()
			o := Observer{URL: srv.URL, AlertsQuery: alerts, ReasoningQuery: ratio, MinRatio: 0.8, Window: 30 * time.Millisecond, Interval: 10 * time.Millisecond}
			out, err := o.Observe(context.Background(), []string{"a", "b"})
			if tc.wantErr == "" {
				if err != nil || !strings.Contains(out, "no firing alert") {
					t.Fatalf("out %q, err %v", out, err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// A Prometheus that cannot be asked fails the observation: an upgrade not
// observed is not known to be good.
func TestObserveUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	o := Observer{URL: url, AlertsQuery: "{target}", ReasoningQuery: "{target}", MinRatio: 0.8, Window: time.Millisecond, Interval: time.Millisecond}
	if _, err := o.Observe(context.Background(), []string{"a"}); err == nil {
		t.Fatal("observation of an unreachable Prometheus passed")
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"status":"error","error":"parse error"}`))
	}))
	defer bad.Close()
	o.URL = bad.URL
	if _, err := o.Observe(context.Background(), []string{"a"}); err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Fatalf("err %v, want Prometheus' error", err)
	}
}

// Nothing is asked during the settle time: the Down alert of the update's
// own downtime, resolved meanwhile, does not fail the batch.
func TestObserveAsksNothingWhileSettling(t *testing.T) {
	f := &fakeProm{answers: map[string][]map[string]any{"a": {sample("1", map[string]string{"alertname": "OpenClawGatewayDown"})}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	o := Observer{URL: srv.URL, AlertsQuery: "{target}", ReasoningQuery: "r{target}", MinRatio: 0.8, Settle: time.Hour, Window: time.Millisecond, Interval: time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := o.Observe(ctx, []string{"a"}); done <- err }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("err %v, want the cancellation", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) != 0 {
		t.Fatalf("asked %q while settling", f.queries)
	}
}
