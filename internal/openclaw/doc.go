// Package openclaw is the one place that knows the real OpenClaw gateway: its
// lock files and when they are stale, its log file names and tslog lines, the
// /healthz and /readyz bodies, how to find its process and its version. The
// exporter, the remediator and the simulator all go through it, and the
// conformance test in e2e/ holds it against the gateway from npm.
package openclaw
