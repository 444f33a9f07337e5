package driver

import (
	"context"
	"time"
)

// Systemd stops and starts a unit with systemctl; the unit's own
// TimeoutStopSec decides when systemd escalates to SIGKILL.
type Systemd struct {
	Unit string
	User bool
	// Systemctl is the program; "" is systemctl from PATH.
	Systemctl string
}

func (s *Systemd) argv(verb string) []string {
	prog := s.Systemctl
	if prog == "" {
		prog = "systemctl"
	}
	argv := []string{prog}
	if s.User {
		argv = append(argv, "--user")
	}
	return append(argv, verb, "--", s.Unit)
}

// Stop runs systemctl stop.
func (s *Systemd) Stop(ctx context.Context, grace time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, grace+30*time.Second)
	defer cancel()
	return Run(ctx, s.argv("stop"), "", nil)
}

// Start runs systemctl start.
func (s *Systemd) Start(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return Run(ctx, s.argv("start"), "", nil)
}
