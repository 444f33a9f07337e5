package remediator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// The incidents API pages past its 1,000 per request with a cursor.
func TestIncidentsAPIPages(t *testing.T) {
	h := harness.New(t, remtest.LimitsForTests+"targets:\n  - {name: default, state_dir: "+t.TempDir()+", driver: {kind: process, start: [/bin/true]}}\n")
	// Recent: older incidents are the journal retention's to prune, which runs beside the test.
	start := time.Now().Add(-time.Hour).UTC()
	err := h.J.Update(func(tx journal.Tx) error {
		for i := range 1500 {
			fp := fmt.Sprintf("%016x", i)
			inc := &journal.Incident{ID: journal.ID(fp, start), Fingerprint: fp, StartsAt: start, Status: "firing",
				State: journal.StateDone, ReceivedAt: start.Add(time.Duration(i) * time.Millisecond), Labels: map[string]string{"alertname": "X"}}
			inc.UpdatedAt = inc.ReceivedAt // retention prunes by the last update
			if err := tx.PutIncident(inc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	get := func(q url.Values) (int, []*journal.Incident, string) {
		resp, err := http.Get(h.Srv.URL + "/api/v1/incidents?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var res struct {
			Incidents []*journal.Incident
			Next      string
		}
		json.NewDecoder(resp.Body).Decode(&res)
		return resp.StatusCode, res.Incidents, res.Next
	}
	seen := map[string]bool{}
	q := url.Values{"limit": {"5000"}}
	for page := 0; ; page++ {
		code, incs, next := get(q)
		if code != http.StatusOK || len(incs) == 0 || len(incs) > 1000 {
			t.Fatalf("page %d: %d, %d incidents", page, code, len(incs))
		}
		for _, inc := range incs {
			if seen[inc.ID] {
				t.Fatalf("page %d repeats %s", page, inc.ID)
			}
			seen[inc.ID] = true
		}
		if next == "" {
			break
		}
		q.Set("cursor", next)
	}
	if len(seen) != 1500 {
		t.Errorf("paged through %d incidents, want 1500", len(seen))
	}
	if code, _, _ := get(url.Values{"cursor": {"x"}}); code != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", code)
	}
}
