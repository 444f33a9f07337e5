package incident

import (
	"context"
	"errors"
	"testing"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Verification runs only after a verified action that succeeded; against a
// gateway that answers nothing it fails the attempt.
func TestVerifyStage(t *testing.T) {
	f := newFixture(t, remtest.LimitsForTests+"targets:"+remtest.CommandTarget(t, "default"))
	ctx := context.Background()

	a := f.begun("cleanup", "cleanup_locks")
	f.act().Exec(ctx, a)
	verifyStage{}.Exec(ctx, a)
	if a.Result != journal.ResultSuccess || a.Verification != "" {
		t.Errorf("an unverified action was verified: %s %q", a.Result, a.Verification)
	}

	a = f.begun("restart", "restart")
	f.act().Exec(ctx, a) // the command driver runs /bin/true
	if a.Result != journal.ResultSuccess {
		t.Fatalf("restart: %s %v", a.Result, a.Err)
	}
	verifyStage{}.Exec(ctx, a)
	if a.Result != journal.ResultVerifyFailed || a.Err == nil || a.Verification == "" {
		t.Errorf("verification of a silent gateway: %s %v %q", a.Result, a.Err, a.Verification)
	}

	failed := errors.New("start failed")
	a.Result, a.Err, a.Verification = journal.ResultFailure, failed, ""
	verifyStage{}.Exec(ctx, a)
	if a.Err != failed || a.Verification != "" {
		t.Errorf("a failed attempt was verified: %v %q", a.Err, a.Verification)
	}
}
