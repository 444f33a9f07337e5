// Package config loads and validates the remediator's YAML configuration:
// the targets it may act on, the policies that map alerts to actions, and the
// safety limits. Unknown keys are errors with their line number; the keys are
// an API and are extended, never renamed.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// ActionSpec is what validation knows of an action. The action registry
// (package actions) reads this configuration, so this package cannot import
// it: the registry registers every action here at init, as Prometheus's
// service discoveries register their configurations.
type ActionSpec struct {
	Name string
	// ByLabel: an alert's action label may name it.
	ByLabel bool
	// Argv: it runs the policy's exec argv, which it then requires; only
	// a policy names it, since its argv comes from the operator.
	Argv bool
}

var actionSpecs []ActionSpec

// RegisterAction makes validation accept an action; called at init only.
func RegisterAction(s ActionSpec) { actionSpecs = append(actionSpecs, s) }

// Driver kinds.
const (
	DriverProcess = "process"
	DriverSystemd = "systemd"
	DriverDocker  = "docker"
	DriverCommand = "command"
)

// Defaults, from the seeds' watchdog and emergency runbook.
const (
	DefaultTargetURL    = "http://127.0.0.1:18789"
	DefaultTargetLabel  = "gateway"
	DefaultActionLabel  = "remediation"
	DefaultWorkers      = 4
	DefaultMaxAttempts  = 3
	DefaultStopTimeout  = model.Duration(30 * time.Second)
	DefaultWindow       = model.Duration(time.Hour)
	DefaultCooldown     = model.Duration(5 * time.Minute)
	DefaultQuietPeriod  = model.Duration(time.Hour)
	DefaultApprovalTTL  = model.Duration(time.Hour)
	DefaultRetryDelay   = model.Duration(10 * time.Second)
	DefaultRetention    = model.Duration(7 * 24 * time.Hour)
	DefaultVerifyTime   = model.Duration(2 * time.Minute)
	DefaultVerifyEvery  = model.Duration(time.Second)
	DefaultLogMaxAge    = model.Duration(7 * 24 * time.Hour)
	DefaultLogBudget    = Bytes(1 << 30)
	DefaultSnapshots    = 20
	DefaultLogTailLines = 200
	DefaultBodyLimit    = Bytes(4 << 20)
	// DefaultVersionPattern accepts OpenClaw's calendar versions with an
	// optional pre-release suffix, and nothing a shell or path could misread.
	DefaultVersionPattern = `^[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,2}(-[0-9A-Za-z.]{1,32})?$`
)

// DefaultRollbackCommand is OpenClaw's own downgrade path; {version} is
// replaced by a version that passed the version pattern.
var DefaultRollbackCommand = []string{"openclaw", "update", "--tag", "{version}", "--yes"}

// Config is the whole file.
type Config struct {
	// TargetLabel names the alert label whose value selects the target.
	TargetLabel string `yaml:"target_label,omitempty"`
	// ActionLabel names the alert label whose value selects the action.
	ActionLabel string `yaml:"action_label,omitempty"`
	// DryRun journals what would be done and does nothing.
	DryRun      bool        `yaml:"dry_run,omitempty"`
	Workers     int         `yaml:"workers,omitempty"`
	BodyLimit   Bytes       `yaml:"webhook_body_limit,omitempty"`
	Journal     Journal     `yaml:"journal,omitempty"`
	Diagnostics Diagnostics `yaml:"diagnostics,omitempty"`
	Limits      Limits      `yaml:"limits,omitempty"`
	Approval    Approval    `yaml:"approval,omitempty"`
	Notify      *Notify     `yaml:"notify,omitempty"`
	Targets     []*Target   `yaml:"targets"`
	Policies    []*Policy   `yaml:"policies,omitempty"`
}

// Journal is where incidents and actions are recorded.
type Journal struct {
	Path      string         `yaml:"path,omitempty"`
	Retention model.Duration `yaml:"retention,omitempty"`
}

// Diagnostics bounds the evidence snapshots taken before a restart.
type Diagnostics struct {
	Dir          string `yaml:"dir,omitempty"`
	MaxSnapshots int    `yaml:"max_snapshots,omitempty"`
	LogLines     int    `yaml:"log_lines,omitempty"`
}

// Limits gate actions per target.
type Limits struct {
	Cooldown    model.Duration `yaml:"cooldown,omitempty"`
	MaxAttempts int            `yaml:"max_attempts,omitempty"`
	Window      model.Duration `yaml:"window,omitempty"`
	// QuietPeriod closes an open circuit after this long without incidents
	// for the target; 0 keeps it open until a manual reset.
	QuietPeriod *model.Duration `yaml:"circuit_quiet_period,omitempty"`
	// RetryDelay is the pause before another attempt after a failed one.
	RetryDelay model.Duration `yaml:"retry_delay,omitempty"`
}

// Approval configures incidents that wait for a human.
type Approval struct {
	Timeout model.Duration `yaml:"timeout,omitempty"`
}

// Notify is called with a JSON body when a circuit opens.
type Notify struct {
	URL              string                  `yaml:"url"`
	HTTPClientConfig config.HTTPClientConfig `yaml:"http_config,omitempty"`
	Timeout          model.Duration          `yaml:"timeout,omitempty"`
}

// Target is one gateway the remediator may act on.
type Target struct {
	Name             string                  `yaml:"name"`
	URL              string                  `yaml:"url,omitempty"`
	HTTPClientConfig config.HTTPClientConfig `yaml:"http_config,omitempty"`
	TokenFile        string                  `yaml:"token_file,omitempty"`
	StateDir         string                  `yaml:"state_dir,omitempty"`
	LogDirs          []string                `yaml:"log_dirs,omitempty"`
	LogProfile       string                  `yaml:"log_profile,omitempty"`
	StopTimeout      model.Duration          `yaml:"stop_timeout,omitempty"`
	Driver           Driver                  `yaml:"driver"`
	Verify           Verify                  `yaml:"verify,omitempty"`
	Logs             LogRetention            `yaml:"log_retention,omitempty"`
	Rollback         Rollback                `yaml:"rollback,omitempty"`

	host  string
	port  int
	token string
}

// Driver says how the target is stopped and started.
type Driver struct {
	Kind string `yaml:"kind"`
	// process: argv that starts the gateway, detached; command: start argv.
	Start []string `yaml:"start,omitempty"`
	// command: stop argv.
	Stop []string `yaml:"stop,omitempty"`
	Dir  string   `yaml:"dir,omitempty"`
	Env  []string `yaml:"env,omitempty"`
	// process: file receiving the started gateway's stdout and stderr.
	Output string `yaml:"output,omitempty"`
	// systemd.
	Unit string `yaml:"unit,omitempty"`
	User bool   `yaml:"user,omitempty"`
	// docker.
	Socket    string `yaml:"socket,omitempty"`
	Container string `yaml:"container,omitempty"`
}

// Verify probes /healthz and /readyz after an action until both answer
// healthy or the timeout passes.
type Verify struct {
	Timeout  model.Duration `yaml:"timeout,omitempty"`
	Interval model.Duration `yaml:"interval,omitempty"`
}

// LogRetention is what cleanup_logs enforces in LogDirs.
type LogRetention struct {
	MaxAge        model.Duration `yaml:"max_age,omitempty"`
	MaxTotalBytes Bytes          `yaml:"max_total_bytes,omitempty"`
	Compress      *bool          `yaml:"compress,omitempty"`
}

// Rollback configures the rollback action.
type Rollback struct {
	Command        []string `yaml:"command,omitempty"`
	VersionPattern string   `yaml:"version_pattern,omitempty"`

	re *regexp.Regexp
}

// VersionRegexp is the compiled version pattern.
func (r Rollback) VersionRegexp() *regexp.Regexp { return r.re }

// Policy maps alerts to an action. The first policy whose matchers all match
// an alert decides for it.
type Policy struct {
	Name string `yaml:"name"`
	// Matchers in Alertmanager's syntax (`severity="critical"`,
	// `alertname=~"OpenClaw.+"`, or a whole `{…}` list per entry).
	Matchers []string `yaml:"matchers"`
	// Action overrides the alert's action label.
	Action string `yaml:"action,omitempty"`
	// Exec is the argv of the exec action.
	Exec []string `yaml:"exec,omitempty"`
	// Verify makes exec verify the target afterwards.
	Verify   bool `yaml:"verify,omitempty"`
	Approval bool `yaml:"approval,omitempty"`
	DryRun   bool `yaml:"dry_run,omitempty"`

	matchers labels.Matchers
}

// Compiled returns the parsed matchers.
func (p *Policy) Compiled() labels.Matchers { return p.matchers }

// Port is the TCP port of the target URL, used to find its process.
func (t *Target) Port() int { return t.port }

// Token is the content of token_file, the gateway's shared token, read when
// the configuration loads; "" without one. With a token, verification also
// needs the RPC probe to succeed, and the evidence before a restart includes
// the health RPC.
func (t *Target) Token() string { return t.token }

// RPCAddr is the host:port of the gateway's WebSocket RPC, on the port of
// its HTTP endpoints.
func (t *Target) RPCAddr() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// LockDirs are where the target's lock files live.
func (t *Target) LockDirs() []string { return openclaw.LockDirs(t.StateDir, "", os.Getuid()) }

// CompressLogs says whether cleanup_logs gzips rotated files.
func (l LogRetention) CompressLogs() bool { return l.Compress == nil || *l.Compress }

// Bytes is a size in YAML: a number of bytes or a string such as "512MiB".
type Bytes int64

// UnmarshalYAML accepts integers and units.Base2Bytes strings.
func (b *Bytes) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*b = Bytes(n)
	} else {
		v, err := units.ParseBase2Bytes(s)
		if err != nil {
			return fmt.Errorf("size %q: %w", s, err)
		}
		*b = Bytes(v)
	}
	if *b < 0 {
		return fmt.Errorf("size %q is negative", s)
	}
	return nil
}

// MarshalYAML writes the size as a string.
func (b Bytes) MarshalYAML() (any, error) { return units.Base2Bytes(b).String(), nil }

// Load reads and validates a configuration file; relative paths are relative
// to the file.
func Load(path string) (*Config, error) {
	return configpath.Load(path, Parse)
}

// Parse parses and validates configuration text; dir resolves relative paths.
func Parse(data []byte, dir string) (*Config, error) {
	c := &Config{}
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, err
	}
	if err := c.validate(dir); err != nil {
		return nil, err
	}
	return c, nil
}

// Target returns the target called name, or nil.
func (c *Config) Target(name string) *Target {
	for _, t := range c.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// TargetNames lists the configured targets in file order.
func (c *Config) TargetNames() []string {
	out := make([]string, len(c.Targets))
	for i, t := range c.Targets {
		out[i] = t.Name
	}
	return out
}

// DefaultPolicies apply when the file has none: the action label chooses the
// action, and rollback waits for a human ("auto-pause, human confirms").
func DefaultPolicies(actionLabel string) []*Policy {
	return []*Policy{
		{Name: "rollback_needs_approval", Matchers: []string{actionLabel + `="rollback"`}, Approval: true},
		{Name: "by_label", Matchers: []string{actionLabel + `=~"restart|cleanup_locks|cleanup_logs"`}},
	}
}

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,62}$`)

func (c *Config) validate(dir string) error {
	home, _ := os.UserHomeDir()
	if c.TargetLabel == "" {
		c.TargetLabel = DefaultTargetLabel
	}
	if c.ActionLabel == "" {
		c.ActionLabel = DefaultActionLabel
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Workers < 0 {
		return fmt.Errorf("workers: %d is negative", c.Workers)
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = DefaultBodyLimit
	}
	if c.Journal.Path == "" {
		c.Journal.Path = "data/remediator.db"
	}
	c.Journal.Path = configpath.Resolve(c.Journal.Path, dir, home)
	if c.Journal.Retention == 0 {
		c.Journal.Retention = DefaultRetention
	}
	// Alertmanager repeats a firing group every repeat_interval (4 h by
	// default) with the same fingerprint and startsAt; forgetting the key
	// sooner would act on a repeat.
	if time.Duration(c.Journal.Retention) < 24*time.Hour {
		return fmt.Errorf("journal.retention: %s is shorter than 24h; duplicates must be recognised longer than any repeat_interval", c.Journal.Retention)
	}
	if c.Diagnostics.Dir == "" {
		c.Diagnostics.Dir = filepath.Join(filepath.Dir(c.Journal.Path), "diagnostics")
	}
	c.Diagnostics.Dir = configpath.Resolve(c.Diagnostics.Dir, dir, home)
	if c.Diagnostics.MaxSnapshots == 0 {
		c.Diagnostics.MaxSnapshots = DefaultSnapshots
	}
	if c.Diagnostics.LogLines == 0 {
		c.Diagnostics.LogLines = DefaultLogTailLines
	}
	if c.Diagnostics.MaxSnapshots < 0 || c.Diagnostics.LogLines < 0 {
		return errors.New("diagnostics: max_snapshots and log_lines must not be negative")
	}
	if err := c.Limits.validate(); err != nil {
		return fmt.Errorf("limits: %w", err)
	}
	if c.Approval.Timeout == 0 {
		c.Approval.Timeout = DefaultApprovalTTL
	}
	if c.Notify != nil {
		if err := c.Notify.validate(dir); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	if len(c.Targets) == 0 {
		return errors.New("targets: at least one target is required")
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		if t == nil {
			return fmt.Errorf("targets[%d]: empty entry", i)
		}
		if err := t.validate(dir, home); err != nil {
			return fmt.Errorf("targets[%d] (%s): %w", i, t.Name, err)
		}
		if seen[t.Name] {
			return fmt.Errorf("targets[%d]: name %q is used twice", i, t.Name)
		}
		seen[t.Name] = true
	}
	if c.Policies == nil {
		c.Policies = DefaultPolicies(c.ActionLabel)
	}
	names := map[string]bool{}
	for i, p := range c.Policies {
		if p == nil {
			return fmt.Errorf("policies[%d]: empty entry", i)
		}
		if err := p.validate(); err != nil {
			return fmt.Errorf("policies[%d] (%s): %w", i, p.Name, err)
		}
		if names[p.Name] {
			return fmt.Errorf("policies[%d]: name %q is used twice", i, p.Name)
		}
		names[p.Name] = true
	}
	return nil
}

func (l *Limits) validate() error {
	if l.Cooldown == 0 {
		l.Cooldown = DefaultCooldown
	}
	if l.MaxAttempts == 0 {
		l.MaxAttempts = DefaultMaxAttempts
	}
	if l.MaxAttempts < 0 {
		return fmt.Errorf("max_attempts: %d is negative", l.MaxAttempts)
	}
	if l.Window == 0 {
		l.Window = DefaultWindow
	}
	if l.RetryDelay == 0 {
		l.RetryDelay = DefaultRetryDelay
	}
	if l.QuietPeriod == nil {
		q := DefaultQuietPeriod
		l.QuietPeriod = &q
	}
	return nil
}

func (n *Notify) validate(dir string) error {
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an http(s) URL", n.URL)
	}
	if n.Timeout == 0 {
		n.Timeout = model.Duration(10 * time.Second)
	}
	n.HTTPClientConfig.SetDirectory(dir)
	if err := n.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return nil
}

func (t *Target) validate(dir, home string) error {
	if !nameRe.MatchString(t.Name) {
		return fmt.Errorf("name: %q must match %s", t.Name, nameRe)
	}
	if t.URL == "" {
		t.URL = DefaultTargetURL
	}
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an http(s) URL", t.URL)
	}
	t.URL = strings.TrimRight(t.URL, "/")
	t.host = u.Hostname()
	t.port = 80
	if u.Scheme == "https" {
		t.port = 443
	}
	if p := u.Port(); p != "" {
		if t.port, err = strconv.Atoi(p); err != nil {
			return fmt.Errorf("url: bad port %q", p)
		}
	}
	t.HTTPClientConfig.SetDirectory(dir)
	if err := t.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	if t.TokenFile != "" {
		t.TokenFile = configpath.Resolve(t.TokenFile, dir, home)
		if t.token, err = configpath.ReadSecret(t.TokenFile); err != nil {
			return fmt.Errorf("token_file: %w", err)
		}
	}
	if t.StateDir == "" {
		t.StateDir = "~/.openclaw"
	}
	t.StateDir = configpath.Resolve(t.StateDir, dir, home)
	if len(t.LogDirs) == 0 {
		t.LogDirs = []string{openclaw.DefaultLogDir}
	}
	for i, d := range t.LogDirs {
		t.LogDirs[i] = configpath.Resolve(d, dir, home)
		if filepath.Clean(t.LogDirs[i]) == "/" {
			return fmt.Errorf("log_dirs[%d]: refusing the root directory", i)
		}
	}
	if t.StopTimeout == 0 {
		t.StopTimeout = DefaultStopTimeout
	}
	if t.Verify.Timeout == 0 {
		t.Verify.Timeout = DefaultVerifyTime
	}
	if t.Verify.Interval == 0 {
		t.Verify.Interval = DefaultVerifyEvery
	}
	if t.Logs.MaxAge == 0 {
		t.Logs.MaxAge = DefaultLogMaxAge
	}
	if t.Logs.MaxTotalBytes == 0 {
		t.Logs.MaxTotalBytes = DefaultLogBudget
	}
	if len(t.Rollback.Command) == 0 {
		t.Rollback.Command = slices.Clone(DefaultRollbackCommand)
	}
	if !slices.ContainsFunc(t.Rollback.Command, func(a string) bool { return strings.Contains(a, "{version}") }) {
		return errors.New("rollback.command: no argument contains {version}")
	}
	if t.Rollback.VersionPattern == "" {
		t.Rollback.VersionPattern = DefaultVersionPattern
	}
	if t.Rollback.re, err = regexp.Compile(t.Rollback.VersionPattern); err != nil {
		return fmt.Errorf("rollback.version_pattern: %w", err)
	}
	if !strings.HasPrefix(t.Rollback.VersionPattern, "^") || !strings.HasSuffix(t.Rollback.VersionPattern, "$") {
		return errors.New("rollback.version_pattern: must be anchored with ^ and $")
	}
	if err := t.Driver.validate(dir, home); err != nil {
		return fmt.Errorf("driver: %w", err)
	}
	return nil
}

func (d *Driver) validate(dir, home string) error {
	argv := func(field string, a []string, required bool) error {
		if len(a) == 0 {
			if required {
				return fmt.Errorf("%s: required for kind %s", field, d.Kind)
			}
			return nil
		}
		for i, s := range a {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("%s[%d]: contains a NUL byte", field, i)
			}
		}
		if a[0] == "" {
			return fmt.Errorf("%s[0]: empty program", field)
		}
		return nil
	}
	for i, e := range d.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("env[%d]: %q is not NAME=value", i, e)
		}
	}
	d.Dir = configpath.Resolve(d.Dir, dir, home)
	d.Output = configpath.Resolve(d.Output, dir, home)
	switch d.Kind {
	case DriverProcess:
		return argv("start", d.Start, true)
	case DriverCommand:
		if err := argv("start", d.Start, true); err != nil {
			return err
		}
		return argv("stop", d.Stop, true)
	case DriverSystemd:
		if d.Unit == "" || strings.ContainsAny(d.Unit, "/\x00 ") || strings.HasPrefix(d.Unit, "-") {
			return fmt.Errorf("unit: %q is not a unit name", d.Unit)
		}
	case DriverDocker:
		if d.Socket == "" {
			d.Socket = "/var/run/docker.sock"
		}
		d.Socket = configpath.Resolve(d.Socket, dir, home)
		if !regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`).MatchString(d.Container) {
			return fmt.Errorf("container: %q is not a container name or id", d.Container)
		}
	case "":
		return errors.New("kind: required (process, systemd, docker or command)")
	default:
		return fmt.Errorf("kind: unknown driver %q (process, systemd, docker or command)", d.Kind)
	}
	return nil
}

func (p *Policy) validate() error {
	if !nameRe.MatchString(p.Name) {
		return fmt.Errorf("name: %q must match %s", p.Name, nameRe)
	}
	if len(p.Matchers) == 0 {
		return errors.New("matchers: at least one matcher is required")
	}
	p.matchers = nil
	for i, s := range p.Matchers {
		ms, err := ParseMatchers(s)
		if err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
		p.matchers = append(p.matchers, ms...)
	}
	i := slices.IndexFunc(actionSpecs, func(s ActionSpec) bool { return s.Name == p.Action })
	argv := i >= 0 && actionSpecs[i].Argv
	switch {
	case p.Action == "":
	case i < 0:
		names := make([]string, len(actionSpecs))
		for i, s := range actionSpecs {
			names[i] = s.Name
		}
		return fmt.Errorf("action: unknown action %q (one of %s)", p.Action, strings.Join(names, ", "))
	case argv:
		if len(p.Exec) == 0 || p.Exec[0] == "" {
			return fmt.Errorf("exec: an argv is required for action %s", p.Action)
		}
		for i, s := range p.Exec {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("exec[%d]: contains a NUL byte", i)
			}
		}
	}
	if !argv && len(p.Exec) > 0 {
		return errors.New("exec: only for action exec")
	}
	return nil
}

// ParseMatchers parses one matchers entry in Alertmanager's syntax. An empty
// list is an error: a policy that matches everything must say so with an
// explicit matcher.
func ParseMatchers(s string) (labels.Matchers, error) {
	ms, err := labels.ParseMatchers(s)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%q has no matcher", s)
	}
	return ms, nil
}
