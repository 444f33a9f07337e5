package remediator

// Ready is nil while the remediator can take webhooks, otherwise why not:
// its journal cannot commit (a full disk), so every webhook would get 503.
// /-/ready answers 503 with it, so that an HA peer or a load balancer
// sends the webhooks elsewhere meanwhile.
func (r *Remediator) Ready() error { return r.journal.CommitError() }

// probeJournal tries an empty commit while the journal cannot commit, so
// that Ready clears when the disk has room again even if no webhook comes
// to try (a load balancer sends them elsewhere while this one is unready).
func (r *Remediator) probeJournal() {
	if r.journal.CommitError() == nil {
		return
	}
	if err := r.journal.ProbeCommit(); err == nil {
		r.logger.Info("journal commits again: ready")
	}
}
