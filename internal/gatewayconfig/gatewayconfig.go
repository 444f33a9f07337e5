// Package gatewayconfig is the part of the exporter's and the remediator's
// configuration that says how to reach one gateway: its URL, token file,
// state directory and log profile, under the same YAML keys, with the same
// defaults and checks in both files. Each embeds Connection inline.
package gatewayconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// The gateway's own defaults: its port and its state directory.
const (
	DefaultURL      = "http://127.0.0.1:18789"
	DefaultStateDir = "~/.openclaw"
)

// Connection is how to reach one gateway.
type Connection struct {
	// URL of the gateway's HTTP endpoints; its port is also how the
	// process is found, and where the WebSocket RPC listens.
	URL string `yaml:"url,omitempty"`
	// TokenFile holds the gateway's shared token, read when the
	// configuration loads: with it the RPC is probed too.
	TokenFile string `yaml:"token_file,omitempty"`
	// StateDir is the gateway's state directory, where its locks live.
	StateDir string `yaml:"state_dir,omitempty"`
	// LogProfile selects openclaw-<profile>-DATE.log files; empty is the
	// default profile.
	LogProfile string `yaml:"log_profile,omitempty"`
	// UID is the user the gateway runs as, for a process that cannot see
	// the gateway's (another PID namespace: a container beside it); its
	// locks are under openclaw-<uid>. Unset: this process's own uid.
	UID *int `yaml:"uid,omitempty"`

	host  string
	port  int
	token string
	// stateDirDefault: state_dir was left out, so it is this process's
	// ~/.openclaw, which is the gateway's only when both run as one user.
	stateDirDefault bool
}

// UIDRange is what a uid can be: uid_t is 32 bits, and its highest value
// is (uid_t)-1, "no user".
var UIDRange = configpath.Count[int64]("uid", 0, 1<<32-2)

// Default is the local gateway as it starts without options; a
// configuration sets it before decoding, so that a key left out keeps it.
func Default() Connection { return Connection{URL: DefaultURL, StateDir: DefaultStateDir} }

// Resolve checks the URL, resolves the paths against dir, the directory of
// the configuration file (~ to home), and reads the token file. Errors
// start with the key.
func (c *Connection) Resolve(dir, home string) error {
	u, err := ParseURL(c.URL)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	c.URL = strings.TrimRight(c.URL, "/")
	c.host = u.Hostname()
	if c.port, err = Port(u); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if c.StateDir == "" {
		return errors.New("state_dir: empty; leave the key out for the default")
	}
	if c.UID != nil {
		if err := UIDRange.Check(int64(*c.UID)); err != nil {
			return err
		}
	}
	c.stateDirDefault = c.StateDir == DefaultStateDir
	c.StateDir = configpath.Resolve(c.StateDir, dir, home)
	c.TokenFile = configpath.Resolve(c.TokenFile, dir, home)
	c.token = ""
	if c.TokenFile != "" {
		if c.token, err = configpath.ReadSecret(c.TokenFile); err != nil {
			return fmt.Errorf("token_file: %w", err)
		}
	}
	return nil
}

// StateDirDefault says that state_dir was left at its default, which is
// resolved against this process's home: the gateway's state directory may
// be elsewhere when it runs as another user.
func (c *Connection) StateDirDefault() bool { return c.stateDirDefault }

// Host is the host of the gateway URL, without brackets.
func (c *Connection) Host() string { return c.host }

// Port is the TCP port of the gateway URL, used to find its process.
func (c *Connection) Port() int { return c.port }

// Token is the content of token_file; "" without one, and then the RPC is
// not probed.
func (c *Connection) Token() string { return c.token }

// RPCAddr is the host:port of the gateway's WebSocket RPC, which shares the
// port of its HTTP endpoints.
func (c *Connection) RPCAddr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

// LockDirs are where this gateway's locks are looked for.
func (c *Connection) LockDirs() []string {
	if c.UID != nil {
		return openclaw.LockDirsFor(c.StateDir, "", *c.UID, os.Getuid())
	}
	return openclaw.LockDirs(c.StateDir, "", os.Getuid())
}

// ParseURL accepts an absolute http or https URL with a host and, if it
// names one, a TCP port (1 to 65535): the only kind the gateway, a model
// server or a webhook receiver can be reached at.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s) URL", raw)
	}
	if _, err := Port(u); err != nil {
		return nil, fmt.Errorf("%q: %w", raw, err)
	}
	return u, nil
}

// Port is the TCP port u names or its scheme implies.
func Port(u *url.URL) (int, error) {
	switch p := u.Port(); {
	case p != "":
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return 0, fmt.Errorf("port %s is out of range [1, 65535]", p)
		}
		return n, nil
	case u.Scheme == "https":
		return 443, nil
	}
	return 80, nil
}
