// Package config loads and validates the exporter's YAML configuration. The
// keys are an API: they are extended, never renamed.
package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/gatewayconfig"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// Defaults.
const (
	DefaultURL           = gatewayconfig.DefaultURL
	DefaultProbeInterval = model.Duration(5 * time.Second)
	DefaultProbeTimeout  = model.Duration(3 * time.Second)
	DefaultVersionEvery  = model.Duration(10 * time.Minute)
	DefaultRPCInterval   = model.Duration(15 * time.Second)
)

// DefaultCollectorTimeout is below Prometheus's default scrape timeout
// (10 s), so that a stuck collector fails itself, not the scrape.
const DefaultCollectorTimeout = model.Duration(8 * time.Second)

// Config is the whole file.
type Config struct {
	Gateways []*Gateway `yaml:"gateways"`
	// LogPatterns are counted in every gateway's log; left out, the defaults.
	LogPatterns []Pattern `yaml:"log_patterns,omitempty"`
	// CollectorTimeout bounds each collector in a scrape; one that takes
	// longer reports collector_success 0.
	CollectorTimeout model.Duration `yaml:"collector_timeout,omitempty"`
}

// Gateway is one monitored OpenClaw gateway.
type Gateway struct {
	Name string `yaml:"name"`
	// Connection: url, token_file (here also the bearer token of the HTTP
	// probes), state_dir and log_profile, as in the remediator's targets.
	gatewayconfig.Connection `yaml:",inline"`

	TLSConfig config.TLSConfig `yaml:"tls_config,omitempty"`
	LogDir    string           `yaml:"log_dir,omitempty"`
	// Local says whether the gateway runs on this host, where its process,
	// locks, logs and disks can be read. Unset, the URL's host decides
	// (openclaw.IsThisHost): a gateway reached through a name or address of
	// another machine gets its HTTP, RPC and reasoning probes only.
	Local *bool `yaml:"local,omitempty"`

	ProbeInterval model.Duration `yaml:"probe_interval,omitempty"`
	ProbeTimeout  model.Duration `yaml:"probe_timeout,omitempty"`
	// VersionInterval is how often the version is re-read even when the
	// process did not change.
	VersionInterval model.Duration `yaml:"version_interval,omitempty"`
	// RPCInterval is how often the RPC probe runs, with a token_file only.
	RPCInterval model.Duration `yaml:"rpc_interval,omitempty"`
	// MemoryLimitBytes overrides the cgroup limit of the gateway process.
	MemoryLimitBytes int64 `yaml:"memory_limit_bytes,omitempty"`
	// Models are the model servers whose reasoning is checked.
	Models []*Model `yaml:"models,omitempty"`
}

// defaultGateway is a gateway entry before its keys are read.
func defaultGateway() Gateway {
	return Gateway{
		Connection:      gatewayconfig.Default(),
		LogDir:          openclaw.DefaultLogDir,
		ProbeInterval:   DefaultProbeInterval,
		VersionInterval: DefaultVersionEvery,
		RPCInterval:     DefaultRPCInterval,
	}
}

// UnmarshalYAML sets the defaults, then reads the keys written.
func (g *Gateway) UnmarshalYAML(unmarshal func(any) error) error {
	*g = defaultGateway()
	type plain Gateway
	return unmarshal((*plain)(g))
}

// UnmarshalYAML sets the defaults, then reads the keys written.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = Config{CollectorTimeout: DefaultCollectorTimeout, LogPatterns: DefaultLogPatterns}
	type plain Config
	return unmarshal((*plain)(c))
}

// HTTPClientConfig is the client configuration for the gateway's endpoints.
func (g *Gateway) HTTPClientConfig() config.HTTPClientConfig {
	c := config.DefaultHTTPClientConfig
	c.TLSConfig = g.TLSConfig
	if g.TokenFile != "" {
		c.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: g.TokenFile}
	}
	return c
}

// LogDirs are where this gateway's logs are looked for.
func (g *Gateway) LogDirs() []string {
	return openclaw.LogDirs(g.LogDir, "", os.Getuid())
}

// Pattern is a named substring counted in log lines.
type Pattern struct {
	Name string `yaml:"name"`
	// Contains lists substrings of the log text; a line counts once if it
	// contains any of them.
	Contains []string `yaml:"contains"`
}

// DefaultLogPatterns are the lines OPENCLAW.md and the operators' write-ups
// name as worth counting.
var DefaultLogPatterns = []Pattern{
	{"liveness_warning", []string{"liveness warning"}},
	{"memory_pressure_critical", []string{"memory pressure: level=critical"}},
	{"health_monitor_restart", []string{"health-monitor: restarting"}},
	{"auto_restart_attempt", []string{"auto-restart attempt"}},
	{"restart_given_up", []string{"giving up after"}},
	{"eaddrinuse", []string{"EADDRINUSE"}},
	{"emfile", []string{"EMFILE"}},
	{"ebadf", []string{"EBADF"}},
	{"out_of_memory", []string{"heap out of memory", "OutOfMemoryError"}},
	{"model_not_responding", []string{"ModelNotResponding"}},
	{"invalid_api_response", []string{"InvalidAPIResponse"}},
}

// Default is the configuration without a file: the local default gateway.
func Default() *Config {
	g := defaultGateway()
	g.Name = "default"
	c := &Config{Gateways: []*Gateway{&g}, CollectorTimeout: DefaultCollectorTimeout, LogPatterns: DefaultLogPatterns}
	if err := c.validate(""); err != nil {
		panic(err) // the defaults are valid by construction
	}
	return c
}

// Load reads and validates a configuration file. Unknown keys are errors
// with their line number; relative paths are relative to the file.
func Load(path string) (*Config, error) {
	return configpath.Load(path, Parse)
}

// Parse parses and validates configuration text; dir resolves relative paths.
func Parse(data []byte, dir string) (*Config, error) {
	c := &Config{}
	if err := configpath.UnmarshalStrict(data, c); err != nil {
		return nil, err
	}
	if err := c.validate(dir); err != nil {
		return nil, err
	}
	return c, nil
}

// The ranges of every count, size and duration key, listed in
// docs/configuration.md. Generous: what a real deployment could want, and
// the milliseconds that tests use; what lies outside is a typo or a unit
// mistake.
var (
	collectorTimeoutRange = configpath.Duration("collector_timeout", time.Millisecond, time.Hour)
	probeIntervalRange    = configpath.Duration("gateways[].probe_interval", time.Millisecond, time.Hour)
	probeTimeoutRange     = configpath.Duration("gateways[].probe_timeout", time.Millisecond, time.Hour)
	versionIntervalRange  = configpath.Duration("gateways[].version_interval", time.Millisecond, 7*24*time.Hour)
	rpcIntervalRange      = configpath.Duration("gateways[].rpc_interval", time.Millisecond, time.Hour)
	memoryLimitRange      = configpath.Count[int64]("gateways[].memory_limit_bytes", 0, 1<<50) // 1 PiB; a plain number, no units
	uidRange              = gatewayconfig.UIDRange.In("gateways[]")
	healthIntervalRange   = configpath.Duration("gateways[].models[].health_interval", time.Millisecond, 24*time.Hour)
	suiteIntervalRange    = configpath.Duration("gateways[].models[].suites[].interval", time.Millisecond, 7*24*time.Hour)
	suiteTimeoutRange     = configpath.Duration("gateways[].models[].suites[].timeout", time.Millisecond, time.Hour)
	suiteRetriesRange     = configpath.Count("gateways[].models[].suites[].retries", 0, 10)
)

// Ranges are the ranges of the file's keys, for the documentation's test.
func Ranges() []configpath.Bounds {
	return []configpath.Bounds{
		collectorTimeoutRange, probeIntervalRange, probeTimeoutRange, versionIntervalRange, rpcIntervalRange,
		memoryLimitRange, uidRange, healthIntervalRange, suiteIntervalRange, suiteTimeoutRange, suiteRetriesRange,
	}
}

var labelValueRe = regexp.MustCompile(`^[a-z0-9_]+$`)

func (c *Config) validate(dir string) error {
	if len(c.Gateways) == 0 {
		return errors.New("gateways: at least one gateway is required")
	}
	home, _ := os.UserHomeDir()
	seen := map[string]bool{}
	for i, g := range c.Gateways {
		if g == nil {
			return fmt.Errorf("gateways[%d]: empty entry", i)
		}
		if err := g.validate(dir, home); err != nil {
			return fmt.Errorf("gateways[%d] (%s): %w", i, g.Name, err)
		}
		if seen[g.Name] {
			return fmt.Errorf("gateways[%d]: name %q is used twice", i, g.Name)
		}
		seen[g.Name] = true
	}
	if err := collectorTimeoutRange.Check(c.CollectorTimeout); err != nil {
		return err
	}
	if c.LogPatterns == nil { // log_patterns: null
		c.LogPatterns = DefaultLogPatterns
	} else if len(c.LogPatterns) == 0 {
		// An empty list counts nothing: the error-burst alert could never fire.
		return errors.New("log_patterns: an empty list counts no line; leave the key out for the defaults, or list at least one pattern")
	}
	names := map[string]bool{}
	for i, p := range c.LogPatterns {
		switch {
		case !labelValueRe.MatchString(p.Name):
			return fmt.Errorf("log_patterns[%d]: name %q must match %s", i, p.Name, labelValueRe)
		case names[p.Name]:
			return fmt.Errorf("log_patterns[%d]: name %q is used twice", i, p.Name)
		case len(p.Contains) == 0:
			return fmt.Errorf("log_patterns[%d] (%s): contains: at least one substring is required", i, p.Name)
		}
		for j, s := range p.Contains {
			if s == "" || strings.ContainsAny(s, "\r\n") {
				return fmt.Errorf("log_patterns[%d] (%s): contains[%d]: must be a non-empty single line", i, p.Name, j)
			}
		}
		names[p.Name] = true
	}
	return nil
}

func (g *Gateway) validate(dir, home string) error {
	if g.Name == "" {
		return errors.New("name: required")
	}
	if err := g.Connection.Resolve(dir, home); err != nil {
		return err
	}
	if g.LogDir == "" { // log_dir: ""
		g.LogDir = openclaw.DefaultLogDir
	}
	g.LogDir = configpath.Resolve(g.LogDir, dir, home)
	g.TLSConfig.SetDirectory(dir)
	if err := configpath.First(
		probeIntervalRange.Check(g.ProbeInterval),
		versionIntervalRange.Check(g.VersionInterval),
		rpcIntervalRange.Check(g.RPCInterval),
		memoryLimitRange.Check(g.MemoryLimitBytes),
	); err != nil {
		return err
	}
	if g.ProbeTimeout == 0 { // at most the interval, whatever that is
		g.ProbeTimeout = min(DefaultProbeTimeout, g.ProbeInterval)
	}
	if err := probeTimeoutRange.Check(g.ProbeTimeout); err != nil {
		return err
	}
	if g.ProbeTimeout > g.ProbeInterval {
		return fmt.Errorf("probe_timeout: %s is longer than probe_interval %s", g.ProbeTimeout, g.ProbeInterval)
	}
	hc := g.HTTPClientConfig()
	if err := hc.Validate(); err != nil {
		return fmt.Errorf("tls_config: %w", err)
	}
	return validateModels(g.Models, dir, home)
}
