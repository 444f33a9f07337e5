// Package incident takes an alert from the webhook to its end. Admit
// journals each alert of a delivery as an incident, matched to a policy's
// action and target, in one durable batch before the webhook answers; one
// runner per target then takes its incidents in arrival order through the
// pipeline, a chain of stages in the shape of Alertmanager's notify, each
// built with what it needs and handed the Attempt:
//
//	quiet    an incident whose policy waits for a quiet moment stays
//	         received and gives its runner back until its gateway runs
//	         no agent turn, or its deadline passes (then approval or act)
//	gate     one transaction ends the incident (target gone, refused by the
//	         gate, dry run, held by an upgrade), holds it pending for a
//	         person (Approve queues it back, past the limits), or begins
//	         its first attempt
//	retry    runs the stages below again while the gate says Retry
//	workers  at most Workers attempts run at once
//	claim    builds the target's driver; one that other remediators share
//	         (driver.Claimer) is claimed for the incident first
//	act      the incident's action from the registry (package actions)
//	verify   the gateway healthy after a verified action, then, once, the
//	         version it runs (package verify)
//	record   one transaction ends the attempt, feeds the gate, records a
//	         healthy version and ends the incident unless it is retried;
//	         the operator is told when the circuit opens
//
// An incident's state changes only through journal.Incident's methods.
// Housekeep expires approvals, closes quiet circuits and prunes the
// journal.
package incident
