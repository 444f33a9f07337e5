// Package actions holds what the remediator does to a gateway: restart
// (evidence, graceful stop, force, stale locks, start), cleanup_locks,
// cleanup_logs, rollback and exec. Each takes its inputs from the
// configuration and the journal; alert labels reach only exec, as
// environment variables.
package actions
