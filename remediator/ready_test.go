package remediator_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/fulldisk"
	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/remtest/harness"
)

// TestNotReadyWhileTheJournalCannotCommit runs the remediator on a journal
// in a small tmpfs, fills the disk until webhooks get 503, and expects
// Ready (/-/ready) to say why; once the disk has room, the housekeeping's
// probe commit makes it ready again without a webhook.
func TestNotReadyWhileTheJournalCannotCommit(t *testing.T) {
	disk := fulldisk.Mount(t, "1m")
	_, target := remtest.SimTarget(t, "default")
	h := harness.NewWith(t, remtest.LimitsForTests+"journal: {path: "+filepath.Join(disk, "journal.db")+"}\ntargets:"+target,
		harness.Options{Housekeeping: 10 * time.Millisecond})
	if err := h.Rem.Ready(); err != nil {
		t.Fatal(err)
	}

	filler := fulldisk.Fill(t, disk)
	// Distinct alerts, each a new incident that needs room in the journal.
	code := http.StatusOK
	for i := 0; i < 1000 && code == http.StatusOK; i++ {
		code, _ = h.Post(remtest.Fixture(t, "firing_gateway_hung.json", "6f8b1a2c3d4e5f60", fmt.Sprintf("fp-%d", i),
			"OpenClawGatewayHung", "NoPolicy"+strings.Repeat("x", 2000)))
	}
	if code != http.StatusServiceUnavailable {
		t.Fatalf("webhooks on a full disk: %d, want 503", code)
	}
	if err := h.Rem.Ready(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Ready after a 503: %v", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for h.Rem.Ready() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("still not ready 30 s after the disk was freed: %v", h.Rem.Ready())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
