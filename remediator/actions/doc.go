// Package actions holds what the remediator does to a gateway: restart
// (evidence, graceful stop, force, stale locks, start), cleanup_locks,
// cleanup_logs, rollback and exec. Each is an Action value in one registry
// (registry.go), with its facts (Spec: disruptive, verified, records a
// healthy version, selectable by an alert label) beside its Run; the
// configuration's validation, the gate, match's defaults, the runner and
// the metrics read them from there. An action takes its inputs from the
// configuration and the journal (Env); alert labels reach only exec, as
// environment variables.
package actions
