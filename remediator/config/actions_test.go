package config

// testActions stand in for the action registry (package actions), which
// this package's tests cannot import; actions' own test loads files with
// the real ones.
var testActions = []ActionSpec{
	{Name: "restart", ByLabel: true}, {Name: "cleanup_locks", ByLabel: true}, {Name: "cleanup_logs", ByLabel: true},
	{Name: "rollback", ByLabel: true, Approval: true}, {Name: "exec", Argv: true},
}

func parse(data []byte, dir string) (*Config, error) { return Parse(data, dir, testActions) }

func load(path string) (*Config, error) { return Load(path, testActions) }
