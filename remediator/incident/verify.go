package incident

import (
	"context"
	"fmt"
	"time"

	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/verify"
)

// verifyStage waits until the gateway is healthy after an attempt whose
// action is verified (or whose policy asks for it), then asks once which
// version it runs: for the record of healthy versions, and for a rollback,
// to check that the version it installed is the one answering.
type verifyStage struct{}

func (verifyStage) Exec(ctx context.Context, a *Attempt) bool {
	if a.Err != nil || !(a.Action.Spec().Verified || a.Output.Verify) {
		return true
	}
	t := a.Env.Target
	p := verify.Prober{Client: a.Env.Client, URL: t.URL, RPCAddr: t.RPCAddr(), Token: t.Token()}
	verification, err := verify.Until(ctx, p, time.Duration(t.Verify.Timeout), time.Duration(t.Verify.Interval))
	if err != nil {
		a.Result, a.Verification, a.Err = journal.ResultVerifyFailed, err.Error(), err
		return true
	}
	a.Verification = verification
	want := a.Output.Version
	if !a.Action.Spec().RecordsVersion && want == "" {
		return true
	}
	vctx, cancel := context.WithTimeout(ctx, verify.VersionTimeout)
	a.Version, a.VersionErr = a.Env.RunningVersion(vctx)
	cancel()
	if d, ok := a.Env.Driver.(driver.Reverter); ok && a.VersionErr == nil {
		rctx, cancel := context.WithTimeout(ctx, verify.VersionTimeout)
		rev, err := d.Revision(rctx)
		cancel()
		if err != nil {
			a.Verification += fmt.Sprintf("; revision not recorded (%v)", err)
		}
		a.Revision = rev
	}
	if want == "" {
		return true
	}
	if err := verify.Runs(a.Version, a.VersionErr, want); err != nil {
		a.Result, a.Verification, a.Err = journal.ResultVerifyFailed, a.Verification+"; "+err.Error(), err
		return true
	}
	a.Verification += "; runs " + a.Version
	return true
}
