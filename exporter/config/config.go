// Package config loads and validates the exporter's YAML configuration. The
// keys are an API: they are extended, never renamed.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// Defaults.
const (
	DefaultURL           = "http://127.0.0.1:18789"
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
	// LogPatterns are counted in every gateway's log; nil means the defaults.
	LogPatterns []Pattern `yaml:"log_patterns,omitempty"`
	// CollectorTimeout bounds each collector in a scrape; one that takes
	// longer reports collector_success 0.
	CollectorTimeout model.Duration `yaml:"collector_timeout,omitempty"`
}

// Gateway is one monitored OpenClaw gateway.
type Gateway struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// TokenFile holds the gateway's shared token: a bearer token for the
	// HTTP probes, and what turns on the RPC probe. It is read when the
	// configuration is loaded.
	TokenFile string           `yaml:"token_file,omitempty"`
	TLSConfig config.TLSConfig `yaml:"tls_config,omitempty"`
	StateDir  string           `yaml:"state_dir,omitempty"`
	LogDir    string           `yaml:"log_dir,omitempty"`
	// LogProfile selects openclaw-<profile>-DATE.log files; empty is the
	// default profile.
	LogProfile string `yaml:"log_profile,omitempty"`

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

	host  string
	port  int
	token string
}

// Port is the TCP port of the gateway URL, used to find its process.
func (g *Gateway) Port() int { return g.port }

// Token is the content of token_file; "" without one, and then the RPC
// probe does not run.
func (g *Gateway) Token() string { return g.token }

// RPCAddr is the host:port of the gateway's WebSocket RPC, which shares the
// port of its HTTP endpoints.
func (g *Gateway) RPCAddr() string { return net.JoinHostPort(g.host, strconv.Itoa(g.port)) }

// HTTPClientConfig is the client configuration for the gateway's endpoints.
func (g *Gateway) HTTPClientConfig() config.HTTPClientConfig {
	c := config.DefaultHTTPClientConfig
	c.TLSConfig = g.TLSConfig
	if g.TokenFile != "" {
		c.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: g.TokenFile}
	}
	return c
}

// LockDirs are where this gateway's locks are looked for.
func (g *Gateway) LockDirs() []string {
	return openclaw.LockDirs(g.StateDir, "", os.Getuid())
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
	c := &Config{Gateways: []*Gateway{{Name: "default"}}}
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
	if err := yaml.UnmarshalStrict(data, c); err != nil {
		return nil, err
	}
	if err := c.validate(dir); err != nil {
		return nil, err
	}
	return c, nil
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
	if c.CollectorTimeout == 0 {
		c.CollectorTimeout = DefaultCollectorTimeout
	}
	if c.LogPatterns == nil {
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
	if g.URL == "" {
		g.URL = DefaultURL
	}
	u, err := url.Parse(g.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an http(s) URL", g.URL)
	}
	g.URL = strings.TrimRight(g.URL, "/")
	g.host = u.Hostname()
	g.port = 80
	if u.Scheme == "https" {
		g.port = 443
	}
	if p := u.Port(); p != "" {
		if g.port, err = strconv.Atoi(p); err != nil {
			return fmt.Errorf("url: bad port %q", p)
		}
	}
	if g.StateDir == "" {
		g.StateDir = "~/.openclaw"
	}
	if g.LogDir == "" {
		g.LogDir = openclaw.DefaultLogDir
	}
	for _, p := range []*string{&g.StateDir, &g.LogDir, &g.TokenFile} {
		*p = configpath.Resolve(*p, dir, home)
	}
	g.TLSConfig.SetDirectory(dir)
	if g.ProbeInterval == 0 {
		g.ProbeInterval = DefaultProbeInterval
	}
	if g.ProbeTimeout == 0 {
		g.ProbeTimeout = min(DefaultProbeTimeout, g.ProbeInterval)
	}
	if g.ProbeTimeout > g.ProbeInterval {
		return fmt.Errorf("probe_timeout: %s is longer than probe_interval %s", g.ProbeTimeout, g.ProbeInterval)
	}
	if g.VersionInterval == 0 {
		g.VersionInterval = DefaultVersionEvery
	}
	if g.RPCInterval == 0 {
		g.RPCInterval = DefaultRPCInterval
	}
	if g.TokenFile != "" {
		if g.token, err = configpath.ReadSecret(g.TokenFile); err != nil {
			return fmt.Errorf("token_file: %w", err)
		}
	}
	if g.MemoryLimitBytes < 0 {
		return fmt.Errorf("memory_limit_bytes: %d is negative", g.MemoryLimitBytes)
	}
	hc := g.HTTPClientConfig()
	if err := hc.Validate(); err != nil {
		return fmt.Errorf("tls_config: %w", err)
	}
	return validateModels(g.Models, dir, home)
}
