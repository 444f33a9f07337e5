package config

// The action registry (package actions) registers the real actions; this
// package's tests cannot import it, so they stand in for it with the same
// facts. actions' registry test checks what it registers.
func init() {
	for _, s := range []ActionSpec{
		{Name: "restart", ByLabel: true}, {Name: "cleanup_locks", ByLabel: true}, {Name: "cleanup_logs", ByLabel: true},
		{Name: "rollback", ByLabel: true}, {Name: "exec", Argv: true},
	} {
		RegisterAction(s)
	}
}
