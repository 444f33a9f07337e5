// Package target is one monitored gateway as the collectors share it: its
// configuration, its HTTP client and the identity of its process.
package target

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// titleScanEvery bounds the walk over every process that the last-resort
// discovery by title costs while the gateway cannot be found otherwise.
const titleScanEvery = 30 * time.Second

// resolveTimeout bounds the look-up of the URL's host name that decides
// whether the gateway is on this host, at start and on reload.
const resolveTimeout = 5 * time.Second

// ErrRemote means the gateway is not on this host: a process here that
// listens on its port is someone else's.
var ErrRemote = errors.New("gateway is not on this host")

// Target is one gateway.
type Target struct {
	Config *config.Gateway
	Client *http.Client
	Procs  openclaw.ProcFS
	Logger *slog.Logger
	// Remote is true for a gateway on another host: it has no process,
	// locks, logs or disks here, only its network probes.
	Remote bool

	mu        sync.Mutex
	proc      openclaw.Process
	method    openclaw.Method
	lastTitle time.Time
}

// New builds the target's HTTP client from its configuration.
func New(cfg *config.Gateway, logger *slog.Logger) (*Target, error) {
	client, err := promconfig.NewClientFromConfig(cfg.HTTPClientConfig(), "openclaw_exporter")
	if err != nil {
		return nil, fmt.Errorf("gateway %s: http client: %w", cfg.Name, err)
	}
	t := &Target{Config: cfg, Client: client, Procs: openclaw.DefaultProcFS, Logger: logger.With("gateway", cfg.Name)}
	t.Remote = !t.local()
	return t, nil
}

// local decides, once per configuration, whether the gateway runs on this
// host, and logs why not when it does not.
func (t *Target) local() bool {
	if t.Config.Local != nil {
		if !*t.Config.Local {
			t.Logger.Info("gateway is not on this host (local: false): only its HTTP, RPC and reasoning probes run; its process, lock, log and filesystem series are absent")
		}
		return *t.Config.Local
	}
	host := t.Config.Host()
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	local, err := openclaw.IsThisHost(ctx, host, net.DefaultResolver)
	switch {
	case err != nil:
		t.Logger.Warn("gateway host not resolved, so treated as another host's: only its HTTP, RPC and reasoning probes run; set local: true for a gateway on this host",
			"host", host, "err", err)
	case !local:
		t.Logger.Info("gateway is on another host: only its HTTP, RPC and reasoning probes run; its process, lock, log and filesystem series are absent",
			"host", host)
	}
	return local
}

// Process returns the gateway's process. A known process is confirmed with
// one read of its stat file; otherwise it is looked up by port and lock, and
// by title at most every titleScanEvery.
func (t *Target) Process() (openclaw.Process, openclaw.Method, error) {
	if t.Remote {
		return openclaw.Process{}, "", ErrRemote
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.proc.PID > 0 {
		if start, err := t.Procs.StartTime(t.proc.PID); err == nil && start == t.proc.StartTime {
			return t.proc, t.method, nil
		}
	}
	d := openclaw.Discoverer{Procs: t.Procs, Port: t.Config.Port(), LockDirs: t.Config.LockDirs(), SkipTitle: true}
	if time.Since(t.lastTitle) >= titleScanEvery {
		d.SkipTitle = false
		t.lastTitle = time.Now()
	}
	p, m, err := d.Find(t.proc)
	if err != nil {
		t.proc, t.method = openclaw.Process{}, ""
		return openclaw.Process{}, "", err
	}
	if p != t.proc {
		t.Logger.Info("gateway process found", "pid", p.PID, "method", m)
	}
	t.proc, t.method = p, m
	return p, m, nil
}

// ErrNoProcess reports whether err says the gateway process is absent (as
// opposed to unreadable).
func ErrNoProcess(err error) bool {
	return errors.Is(err, openclaw.ErrNotFound) || errors.Is(err, openclaw.ErrNoProcess)
}
