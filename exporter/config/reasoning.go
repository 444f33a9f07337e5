package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/gatewayconfig"
)

// Reasoning probe defaults.
const (
	DefaultHealthPath     = "/health"
	DefaultHealthInterval = model.Duration(15 * time.Second)
	DefaultSuiteName      = "default"
	DefaultSuiteInterval  = model.Duration(15 * time.Minute)
	DefaultSuiteTimeout   = model.Duration(60 * time.Second)
	DefaultSuiteRetries   = 2
	// maxHealthTimeout bounds one health probe; shorter intervals shorten it.
	maxHealthTimeout = 5 * time.Second
)

// Model is an OpenAI-compatible model server that a gateway uses: llama.cpp,
// vLLM, Ollama, or the gateway's own endpoint.
type Model struct {
	Name string `yaml:"name"` // the model label
	// URL is the server's base URL; /v1/chat/completions or
	// /v1/completions is appended.
	URL        string           `yaml:"url"`
	Model      string           `yaml:"model,omitempty"` // the request's model field; default Name
	API        string           `yaml:"api,omitempty"`   // chat (default) or completions
	APIKeyFile string           `yaml:"api_key_file,omitempty"`
	TLSConfig  config.TLSConfig `yaml:"tls_config,omitempty"`
	// HealthPath is probed in the background; "" turns the probe off, and
	// leaving the key out means DefaultHealthPath.
	HealthPath     *string        `yaml:"health_path,omitempty"`
	HealthInterval model.Duration `yaml:"health_interval,omitempty"`
	// Suites default to the embedded suite when the key is left out.
	Suites []*ModelSuite `yaml:"suites,omitempty"`
	// PIDFile holds the server's pid, for the GPU memory of its processes;
	// without it a server on a loopback URL is found by its port.
	PIDFile string `yaml:"pid_file,omitempty"`

	localPort int
}

// LocalPort is the port of a server on a loopback URL (0 otherwise): its
// process can be found by the port it listens on.
func (m *Model) LocalPort() int { return m.localPort }

// ModelSuite is a reasoning suite run against a model on a schedule.
type ModelSuite struct {
	Name string `yaml:"name"` // the suite label
	// File is a suite file; empty means the embedded default suite.
	File     string         `yaml:"file,omitempty"`
	Interval model.Duration `yaml:"interval,omitempty"`
	// Timeout is the per-test default; a test's own timeout wins.
	Timeout model.Duration `yaml:"timeout,omitempty"`
	// Retries of a request that failed in transport; nil means the default.
	Retries *int `yaml:"retries,omitempty"`

	tests *suite.Suite
}

// Tests is the suite, loaded and validated with the configuration.
func (s *ModelSuite) Tests() *suite.Suite { return s.tests }

// HealthTimeout is the deadline of one health probe.
func (m *Model) HealthTimeout() time.Duration {
	return min(maxHealthTimeout, time.Duration(m.HealthInterval))
}

// HTTPClientConfig is the client configuration for the model server, with
// the API key as bearer credentials read on every request.
func (m *Model) HTTPClientConfig() config.HTTPClientConfig {
	c := config.DefaultHTTPClientConfig
	c.TLSConfig = m.TLSConfig
	if m.APIKeyFile != "" {
		c.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: m.APIKeyFile}
	}
	return c
}

// nameRe is what a model or suite name may be: a readable label value.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`)

// validateModels checks the models of a gateway; errors start with
// models[i] and name the field.
func validateModels(models []*Model, dir, home string) error {
	seen := map[string]int{}
	for i, m := range models {
		if m == nil {
			return fmt.Errorf("models[%d]: empty entry", i)
		}
		if err := m.validate(dir, home); err != nil {
			return fmt.Errorf("models[%d].%w", i, err)
		}
		if j, dup := seen[m.Name]; dup {
			return fmt.Errorf("models[%d].name: %q is already the name of models[%d]", i, m.Name, j)
		}
		seen[m.Name] = i
	}
	return nil
}

func (m *Model) validate(dir, home string) error {
	if !nameRe.MatchString(m.Name) {
		return fmt.Errorf("name: %q must match %s", m.Name, nameRe)
	}
	u, err := gatewayconfig.ParseURL(m.URL)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("url: %q: a base URL takes no query or fragment", m.URL)
	}
	m.URL = strings.TrimRight(m.URL, "/")
	if m.Model == "" {
		m.Model = m.Name
	}
	switch m.API {
	case "":
		m.API = "chat"
	case "chat", "completions":
	default:
		return fmt.Errorf("api: %q is not chat or completions", m.API)
	}
	m.APIKeyFile = configpath.Resolve(m.APIKeyFile, dir, home)
	m.PIDFile = configpath.Resolve(m.PIDFile, dir, home)
	m.localPort = loopbackPort(u)
	m.TLSConfig.SetDirectory(dir)
	if hc := m.HTTPClientConfig(); hc.Validate() != nil {
		return fmt.Errorf("tls_config: %w", hc.Validate())
	}
	if m.HealthPath == nil {
		p := DefaultHealthPath
		m.HealthPath = &p
	}
	if p := *m.HealthPath; p != "" && !strings.HasPrefix(p, "/") {
		return fmt.Errorf("health_path: %q must start with /", p)
	}
	if m.HealthInterval == 0 {
		m.HealthInterval = DefaultHealthInterval
	}
	if err := healthIntervalRange.Check(m.HealthInterval); err != nil {
		return err
	}
	if m.Suites == nil {
		m.Suites = []*ModelSuite{{Name: DefaultSuiteName}}
	}
	seen := map[string]int{}
	for i, s := range m.Suites {
		if s == nil {
			return fmt.Errorf("suites[%d]: empty entry", i)
		}
		if err := s.validate(dir, home); err != nil {
			return fmt.Errorf("suites[%d].%w", i, err)
		}
		if j, dup := seen[s.Name]; dup {
			return fmt.Errorf("suites[%d].name: %q is already the name of suites[%d]", i, s.Name, j)
		}
		seen[s.Name] = i
	}
	return nil
}

func (s *ModelSuite) validate(dir, home string) error {
	if !nameRe.MatchString(s.Name) {
		return fmt.Errorf("name: %q must match %s", s.Name, nameRe)
	}
	if s.Interval == 0 {
		s.Interval = DefaultSuiteInterval
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultSuiteTimeout
	}
	if s.Retries == nil {
		r := DefaultSuiteRetries
		s.Retries = &r
	}
	if err := configpath.First(
		suiteIntervalRange.Check(s.Interval),
		suiteTimeoutRange.Check(s.Timeout),
		suiteRetriesRange.Check(*s.Retries),
	); err != nil {
		return err
	}
	if s.File == "" {
		s.tests = suite.Default()
		return nil
	}
	s.File = configpath.Resolve(s.File, dir, home)
	t, err := suite.Load(s.File)
	if err != nil {
		return fmt.Errorf("file: %w", err)
	}
	s.tests = t
	return nil
}

// loopbackPort is the port of a URL on a loopback host, else 0.
func loopbackPort(u *url.URL) int {
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0
	}
	p, _ := gatewayconfig.Port(u) // 0 for a port that is not a number
	return p
}
