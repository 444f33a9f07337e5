package driver

import (
	"context"
	"time"
)

// CommandSpec is the command kind's section: the operator's argv.
type CommandSpec struct {
	Shared `yaml:",inline"`
	Start  []string `yaml:"start,omitempty"`
	Stop   []string `yaml:"stop,omitempty"`
}

// Validate checks both argv.
func (s *CommandSpec) Validate(_, _ string) error {
	if err := checkArgv(s.Kind, "start", s.Start); err != nil {
		return err
	}
	return checkArgv(s.Kind, "stop", s.Stop)
}

// New builds the driver.
func (s *CommandSpec) New(Target) (Driver, error) {
	return &Command{StartArgv: s.Start, StopArgv: s.Stop, Dir: s.Dir, Env: s.Env}, nil
}

// Command stops and starts the gateway with operator-supplied argv.
type Command struct {
	StartArgv []string
	StopArgv  []string
	Dir       string
	Env       []string
}

// Stop runs the stop argv, killed after grace plus a margin.
func (c *Command) Stop(ctx context.Context, grace time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, grace+30*time.Second)
	defer cancel()
	return Run(ctx, c.StopArgv, c.Dir, c.Env)
}

// Start runs the start argv; it must return once the gateway is launched.
func (c *Command) Start(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return Run(ctx, c.StartArgv, c.Dir, c.Env)
}
