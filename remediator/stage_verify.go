package remediator

import (
	"context"
	"fmt"
	"time"

	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/verify"
)

// versionTimeout bounds asking the gateway which version it runs.
const versionTimeout = 5 * time.Second

// verifyStage waits until the gateway is healthy after an attempt whose
// action is verified (or whose policy asks for it), then asks once which
// version it runs: for the record of healthy versions, and for a rollback,
// to check that the version it installed is the one answering.
type verifyStage struct{ r *Remediator }

func (s verifyStage) exec(ctx context.Context, w *work) bool {
	if w.err != nil || !(w.action.Spec().Verified || w.res.Verify) {
		return true
	}
	t := w.env.Target
	p := verify.Prober{Client: w.env.Client, URL: t.URL, RPCAddr: t.RPCAddr(), Token: t.Token()}
	verification, err := verify.Until(ctx, p, time.Duration(t.Verify.Timeout), time.Duration(t.Verify.Interval))
	if err != nil {
		w.result, w.verification, w.err = journal.ResultVerifyFailed, err.Error(), err
		return true
	}
	w.verification = verification
	if !w.action.Spec().RecordsVersion && w.res.Version == "" {
		return true
	}
	vctx, cancel := context.WithTimeout(ctx, versionTimeout)
	w.version, w.versionErr = w.env.RunningVersion(vctx)
	cancel()
	if d, ok := w.env.Driver.(driver.Reverter); ok && w.versionErr == nil {
		rctx, cancel := context.WithTimeout(ctx, versionTimeout)
		rev, err := d.Revision(rctx)
		cancel()
		if err != nil {
			w.verification += fmt.Sprintf("; revision not recorded (%v)", err)
		}
		w.revision = rev
	}
	if w.res.Version == "" {
		return true
	}
	// Healthy is not enough: an update command that returned before it
	// restarted the gateway leaves the bad version answering.
	switch {
	case w.versionErr != nil:
		w.verification += fmt.Sprintf("; running version not discoverable (%v)", w.versionErr)
	case w.version != w.res.Version:
		w.err = fmt.Errorf("healthy, but the gateway runs %s, not %s", w.version, w.res.Version)
		w.result, w.verification = journal.ResultVerifyFailed, w.verification+"; "+w.err.Error()
	default:
		w.verification += "; runs " + w.version
	}
	return true
}
