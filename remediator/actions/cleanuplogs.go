package actions

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// cleanupLogsAction archives and deletes old gateway logs within the
// target's retention, without stopping anything. Files that changed
// between its scan and its act are left alone and named: the action ends
// partial, not failed, so a writer in a log directory cannot stop the rest
// of the cleanup.
type cleanupLogsAction struct{}

func (cleanupLogsAction) Spec() Spec { return Spec{Name: "cleanup_logs", ByLabel: true} }

func (cleanupLogsAction) Run(_ context.Context, env *Env) (Result, error) {
	if err := localFiles(env.Target, "cleanup_logs"); err != nil {
		return Result{}, err
	}
	l := env.Target.Logs
	rep, err := CleanupLogs(env.Target.LogDirs, LogRetention{
		MaxAge: time.Duration(l.MaxAge), MaxTotalBytes: int64(l.MaxTotalBytes),
		Compress: l.CompressLogs(), Active: time.Minute,
	}, env.Now)
	if err == nil && len(rep.Changed) > 0 {
		err = fmt.Errorf("%w: %d file(s) changed since the scan and were left alone: %s", ErrPartial, len(rep.Changed), strings.Join(rep.Changed, ", "))
	}
	return Result{Output: rep.String()}, err
}
