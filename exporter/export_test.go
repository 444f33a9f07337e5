package exporter

// Waiters is how many scrapes wait for the run in flight of the host
// collector name: 0 when none is in flight.
func (e *Exporter) Waiters(name string) int {
	g := e.state.Load().host[name]
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur == nil {
		return 0
	}
	return g.cur.waiters
}
