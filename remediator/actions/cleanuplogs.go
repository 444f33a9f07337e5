package actions

import (
	"context"
	"time"
)

// cleanupLogsAction archives and deletes old gateway logs within the
// target's retention, without stopping anything.
type cleanupLogsAction struct{}

func (cleanupLogsAction) Spec() Spec { return Spec{Name: "cleanup_logs", ByLabel: true} }

func (cleanupLogsAction) Run(_ context.Context, env *Env) (Result, error) {
	l := env.Target.Logs
	rep, err := CleanupLogs(env.Target.LogDirs, LogRetention{
		MaxAge: time.Duration(l.MaxAge), MaxTotalBytes: int64(l.MaxTotalBytes),
		Compress: l.CompressLogs(), Active: time.Minute,
	}, env.Now)
	return Result{Output: rep.String()}, err
}
