package driver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// kinds is every driver kind, by its name in the configuration. Adding a
// kind is a file with its Spec and its driver, and a line here.
var kinds = map[string]func() Spec{
	"process":    func() Spec { return &ProcessSpec{} },
	"systemd":    func() Spec { return &SystemdSpec{} },
	"docker":     func() Spec { return &DockerSpec{Socket: DefaultDockerSocket} },
	"command":    func() Spec { return &CommandSpec{} },
	"kubernetes": func() Spec { return &KubernetesSpec{} },
	"openclaw":   func() Spec { return &OpenClawSpec{} },
}

// Kinds lists the driver kinds' names, sorted.
func Kinds() []string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// Spec is one kind's section of a target's configuration: Shared, inline,
// and the kind's own keys.
type Spec interface {
	// Validate checks and completes the kind's own keys; dir and home
	// resolve relative paths.
	Validate(dir, home string) error
	// New builds the driver for the target t.
	New(t Target) (Driver, error)
	shared() *Shared
}

// Shared are the keys of every kind: the directory and environment that
// the gateway's CLI (update, rollback, backup) runs with.
type Shared struct {
	Kind string   `yaml:"kind"`
	Dir  string   `yaml:"dir,omitempty"`
	Env  []string `yaml:"env,omitempty"`
}

func (s *Shared) shared() *Shared { return s }

// Target is what a driver is told of its target beyond its own section.
type Target struct {
	Port     int
	LockDirs []string
	Procs    openclaw.ProcFS
}

// Config is a target's driver section, decoded into its kind's Spec.
type Config struct {
	Spec
	// kind is the kind as written when no Spec has that name, for
	// Validate's error.
	kind string
}

// UnmarshalYAML decodes the section into the Spec its kind names, strictly:
// a key of another kind is an error.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	var head map[string]any
	if err := unmarshal(&head); err != nil {
		return err
	}
	c.kind, _ = head["kind"].(string)
	newSpec, ok := kinds[c.kind]
	if !ok {
		c.Spec = nil
		return nil
	}
	s := newSpec()
	if err := unmarshal(s); err != nil {
		return err
	}
	c.Spec = s
	return nil
}

// MarshalYAML writes the kind's section.
func (c Config) MarshalYAML() (any, error) { return c.Spec, nil }

// Kind is the driver's kind.
func (c *Config) Kind() string {
	if c.Spec == nil {
		return c.kind
	}
	return c.shared().Kind
}

// Dir is where the gateway's CLI runs.
func (c *Config) Dir() string {
	if c.Spec == nil {
		return ""
	}
	return c.shared().Dir
}

// Env is what the gateway's CLI runs with besides the remediator's own
// environment.
func (c *Config) Env() []string {
	if c.Spec == nil {
		return nil
	}
	return c.shared().Env
}

// Validate checks the section, the shared keys first. Its errors start
// with "driver: ", but for a range's, which names its key whole as every
// range error does.
func (c *Config) Validate(dir, home string) error {
	if err := c.validate(dir, home); err != nil {
		return fmt.Errorf("driver: %w", err)
	}
	if r, ok := c.Spec.(interface{ checkRanges() error }); ok {
		return r.checkRanges()
	}
	return nil
}

func (c *Config) validate(dir, home string) error {
	if c.Spec == nil {
		if c.kind == "" {
			return fmt.Errorf("kind: required (%s)", strings.Join(Kinds(), ", "))
		}
		return fmt.Errorf("kind: unknown driver %q (%s)", c.kind, strings.Join(Kinds(), ", "))
	}
	s := c.shared()
	for i, e := range s.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("env[%d]: %q is not NAME=value", i, e)
		}
	}
	s.Dir = configpath.Resolve(s.Dir, dir, home)
	return c.Spec.Validate(dir, home)
}

// FilesElsewhere reports whether the gateway's files are, by default, not
// on this host but in its platform's volumes (a Kubernetes pod's), so that
// file cleanups need the operator to say where they are mounted.
func (c *Config) FilesElsewhere() bool {
	f, ok := c.Spec.(interface{ filesElsewhere() bool })
	return ok && f.filesElsewhere()
}

// Ranges are the ranges of the kinds' keys, for the documentation's test.
func Ranges() []configpath.Bounds { return []configpath.Bounds{claimTTLRange} }

// checkArgv checks a kind's required argv key.
func checkArgv(kind, field string, a []string) error {
	if len(a) == 0 {
		return fmt.Errorf("%s: required for kind %s", field, kind)
	}
	for i, s := range a {
		if strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%s[%d]: contains a NUL byte", field, i)
		}
	}
	if a[0] == "" {
		return errors.New(field + "[0]: empty program")
	}
	return nil
}
