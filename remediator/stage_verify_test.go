package remediator

import (
	"context"
	"errors"
	"testing"

	"github.com/clawwatch/clawwatch/remediator/journal"
)

// Verification runs only after a verified action that succeeded; against a
// gateway that answers nothing it fails the attempt.
func TestVerifyStage(t *testing.T) {
	h := newHarness(t, limitsForTests+"targets:"+commandTarget(t, "default"))
	ctx := context.Background()

	w := h.begun("cleanup", "cleanup_locks")
	(actStage{h.rem}).exec(ctx, w)
	(verifyStage{h.rem}).exec(ctx, w)
	if w.result != journal.ResultSuccess || w.verification != "" {
		t.Errorf("an unverified action was verified: %s %q", w.result, w.verification)
	}

	w = h.begun("restart", "restart")
	(actStage{h.rem}).exec(ctx, w) // the command driver runs /bin/true
	if w.result != journal.ResultSuccess {
		t.Fatalf("restart: %s %v", w.result, w.err)
	}
	(verifyStage{h.rem}).exec(ctx, w)
	if w.result != journal.ResultVerifyFailed || w.err == nil || w.verification == "" {
		t.Errorf("verification of a silent gateway: %s %v %q", w.result, w.err, w.verification)
	}

	failed := errors.New("start failed")
	w.result, w.err, w.verification = journal.ResultFailure, failed, ""
	(verifyStage{h.rem}).exec(ctx, w)
	if w.err != failed || w.verification != "" {
		t.Errorf("a failed attempt was verified: %v %q", w.err, w.verification)
	}
}
