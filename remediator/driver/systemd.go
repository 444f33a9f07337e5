package driver

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// SystemdSpec is the systemd kind's section: the unit, and whether it is
// the user's manager's.
type SystemdSpec struct {
	Shared `yaml:",inline"`
	Unit   string `yaml:"unit,omitempty"`
	User   bool   `yaml:"user,omitempty"`
}

// Validate checks that unit is a unit name, never an option.
func (s *SystemdSpec) Validate(_, _ string) error {
	if s.Unit == "" || strings.ContainsAny(s.Unit, "/\x00 ") || strings.HasPrefix(s.Unit, "-") {
		return fmt.Errorf("unit: %q is not a unit name", s.Unit)
	}
	return nil
}

// New builds the driver.
func (s *SystemdSpec) New(Target) (Driver, error) { return &Systemd{Unit: s.Unit, User: s.User}, nil }

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
