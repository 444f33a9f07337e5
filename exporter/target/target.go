// Package target is one monitored gateway as the collectors share it: its
// configuration, its HTTP client and the identity of its process.
package target

import (
	"errors"
	"fmt"
	"log/slog"
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

// Target is one gateway.
type Target struct {
	Config *config.Gateway
	Client *http.Client
	Procs  openclaw.ProcFS
	Logger *slog.Logger

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
	return &Target{Config: cfg, Client: client, Procs: openclaw.DefaultProcFS, Logger: logger.With("gateway", cfg.Name)}, nil
}

// Process returns the gateway's process. A known process is confirmed with
// one read of its stat file; otherwise it is looked up by port and lock, and
// by title at most every titleScanEvery.
func (t *Target) Process() (openclaw.Process, openclaw.Method, error) {
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
