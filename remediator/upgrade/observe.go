package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Observer watches a batch of upgraded targets in Prometheus: no firing
// alert of the mixin for them, and their reasoning pass ratio not below
// its threshold, for the whole window.
type Observer struct {
	Client *http.Client
	// URL is Prometheus' base URL, without /api/v1.
	URL string
	// AlertsQuery and ReasoningQuery contain {target}, replaced by each
	// target's name (a configured name, which cannot leave a PromQL
	// string).
	AlertsQuery, ReasoningQuery string
	MinRatio                    float64
	// Settle passes before the first query: the alerts that the update's
	// own downtime fired resolve meanwhile.
	Settle, Window, Interval time.Duration
}

// Observe queries every interval until the window has passed; the first
// problem ends it with an error that says what was seen. An unreachable
// Prometheus is a problem too: an upgrade that cannot be observed is not
// known to be good.
func (o Observer) Observe(ctx context.Context, targets []string) (string, error) {
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(o.Settle):
	}
	deadline := time.Now().Add(o.Window)
	rounds := 0
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	for {
		rounds++
		if err := o.check(ctx, targets); err != nil {
			return "", err
		}
		if !time.Now().Before(deadline) {
			return fmt.Sprintf("observed %s in %d rounds: no firing alert, reasoning pass ratio not below %g", o.Window, rounds, o.MinRatio), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

func (o Observer) check(ctx context.Context, targets []string) error {
	for _, t := range targets {
		samples, err := o.query(ctx, strings.ReplaceAll(o.AlertsQuery, "{target}", t))
		if err != nil {
			return fmt.Errorf("target %s: alerts: %w", t, err)
		}
		if len(samples) > 0 {
			names := make([]string, len(samples))
			for i, s := range samples {
				names[i] = s.Metric["alertname"]
			}
			return fmt.Errorf("target %s: firing alerts %v", t, names)
		}
		samples, err = o.query(ctx, strings.ReplaceAll(o.ReasoningQuery, "{target}", t))
		if err != nil {
			return fmt.Errorf("target %s: reasoning: %w", t, err)
		}
		for _, s := range samples {
			if s.Value < o.MinRatio {
				return fmt.Errorf("target %s: reasoning pass ratio %g below %g", t, s.Value, o.MinRatio)
			}
		}
	}
	return nil
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// maxResponse bounds a query's answer.
const maxResponse = 4 << 20

// query runs an instant query through GET /api/v1/query.
func (o Observer) query(ctx context.Context, q string) ([]Sample, error) {
	client := o.Client
	if client == nil {
		client = http.DefaultClient
	}
	u := strings.TrimRight(o.URL, "/") + "/api/v1/query?" + url.Values{"query": {q}}.Encode()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %s: status %d, not JSON: %w", q, resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %s, want vector", q, r.Data.ResultType)
	}
	out := make([]Sample, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v: %w", q, s.Value[1], err)
		}
		out = append(out, Sample{Metric: s.Metric, Value: v})
	}
	return out, nil
}
