package console

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// An incident waiting for a quiet moment says so on its page: until when,
// what then, and the last look at the gateway.
func TestIncidentPageShowsTheQuietWait(t *testing.T) {
	pages, err := parseTemplates("/console")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	inc := &journal.Incident{ID: "i1", AlertName: "OpenClawGatewayMemoryLeak", State: journal.StateReceived,
		Decision: journal.DecisionWaitingQuiet, Reason: "waits for a quiet moment until …: 1 active agent turn",
		Quiet: &journal.Quiet{Until: at.Add(2 * time.Hour), Then: "approval", CheckedAt: &at, ActiveTurns: 1}}
	var buf bytes.Buffer
	if err := pages["incident"].ExecuteTemplate(&buf, "layout", view{Base: "/console", Data: incidentView{Inc: inc}}); err != nil {
		t.Fatal(err)
	}
	want := `<dd id="quiet">waits (until 2026-12-07 01:00:00 UTC, then approval); last look 2026-12-06 23:00:00 UTC: active agent turns: 1</dd>`
	if !strings.Contains(buf.String(), want) {
		t.Errorf("the page lacks %s", want)
	}
}
