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
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
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
	// stateDir is the state directory last found from the gateway's
	// process (StateDir), kept for when the process is gone.
	stateDir string

	// scrape numbers the scrapes begun (Begin). stat is the read of proc's
	// stat that confirmed it, in scrape confirmedIn: the collectors of one
	// scrape share it, one read of the gateway's stat per scrape.
	scrape      atomic.Uint64
	stat        openclaw.Stat
	confirmedIn uint64
	confirmedAt time.Time
	// statFile reads the stat of the process last confirmed, kept open
	// between scrapes (an old target's is closed with it by the GC).
	statFile *openclaw.StatFile
}

// confirmFresh bounds how long a confirmation serves the scrape that took
// it, and the probes that ask between scrapes.
const confirmFresh = time.Second

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

// Begin starts a scrape: its collectors share one confirmation of the
// gateway's process.
func (t *Target) Begin() { t.scrape.Add(1) }

// Process returns the gateway's process. A known process is confirmed with
// one read of its stat file per scrape (Begin); otherwise it is looked up by
// port and lock, and by title at most every titleScanEvery.
func (t *Target) Process() (openclaw.Process, openclaw.Method, error) {
	p, m, _, err := t.lookup()
	return p, m, err
}

// ProcessStat is Process with the read of its stat file that confirmed it.
func (t *Target) ProcessStat() (openclaw.Process, openclaw.Stat, error) {
	p, _, st, err := t.lookup()
	return p, st, err
}

func (t *Target) lookup() (openclaw.Process, openclaw.Method, openclaw.Stat, error) {
	if t.Remote {
		return openclaw.Process{}, "", openclaw.Stat{}, ErrRemote
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.proc.PID > 0 {
		if n := t.scrape.Load(); n > 0 && t.confirmedIn == n && time.Since(t.confirmedAt) < confirmFresh {
			return t.proc, t.method, t.stat, nil
		}
		if err := t.confirm(t.proc); err == nil {
			return t.proc, t.method, t.stat, nil
		}
	}
	d := openclaw.Discoverer{Procs: t.Procs, Port: t.Config.Port(), LockDirs: t.Config.LockDirs(), SkipTitle: true}
	if time.Since(t.lastTitle) >= titleScanEvery {
		d.SkipTitle = false
		t.lastTitle = time.Now()
	}
	p, m, err := d.Find(t.proc)
	if err == nil {
		err = t.confirm(p)
	}
	if err != nil {
		t.proc, t.method = openclaw.Process{}, ""
		return openclaw.Process{}, "", openclaw.Stat{}, err
	}
	if p != t.proc {
		t.Logger.Info("gateway process found", "pid", p.PID, "method", m)
	}
	t.proc, t.method = p, m
	return p, m, t.stat, nil
}

// confirm reads p's stat and keeps it when p is still that live process.
func (t *Target) confirm(p openclaw.Process) error {
	if t.statFile == nil || t.statFile.PID() != p.PID {
		if t.statFile != nil {
			t.statFile.Close()
		}
		t.statFile = t.Procs.OpenStat(p.PID)
	}
	st, err := t.statFile.Read()
	if err != nil {
		return err
	}
	if st.StartTime != p.StartTime || st.State == 'Z' || st.State == 'X' {
		return fmt.Errorf("pid %d exited or was reused: %w", p.PID, openclaw.ErrNoProcess)
	}
	t.stat, t.confirmedIn, t.confirmedAt = st, t.scrape.Load(), time.Now()
	return nil
}

// ErrNoProcess reports whether err says the gateway process is absent (as
// opposed to unreadable).
func ErrNoProcess(err error) bool {
	return errors.Is(err, openclaw.ErrNotFound) || errors.Is(err, openclaw.ErrNoProcess)
}

// StateDir is the gateway's state directory, where its locks are: state_dir
// as configured or, left at its default, the one the gateway's process was
// started for (its OPENCLAW_STATE_DIR, else its HOME's .openclaw), since an
// exporter running as another user has another ~. Its environment needs the
// gateway's user or CAP_SYS_PTRACE to read; without it, the home of the
// gateway's user in the user database, if the directory is there. Where it
// cannot know, the error says why: reporting the locks of a directory that
// is not the gateway's would say 0 for ever.
func (t *Target) StateDir() (string, error) {
	if !t.Config.StateDirDefault() {
		return t.Config.StateDir, nil
	}
	p, _, perr := t.Process()
	if perr == nil {
		dir, err := t.stateDirOf(p.PID)
		if err != nil {
			return "", err
		}
		t.mu.Lock()
		t.stateDir = dir
		t.mu.Unlock()
		return dir, nil
	}
	t.mu.Lock()
	last := t.stateDir
	t.mu.Unlock()
	if last != "" {
		return last, nil
	}
	if _, err := os.Stat(t.Config.StateDir); err != nil {
		return "", fmt.Errorf("state_dir is left at its default %s, which does not exist here (%w), and the gateway's process, which would say where its state is, was not found (%w): set state_dir", t.Config.StateDir, err, perr)
	}
	return t.Config.StateDir, nil
}

// stateDirOf finds the state directory of the gateway process pid.
func (t *Target) stateDirOf(pid int) (string, error) {
	dir, err := t.Procs.StateDir(pid)
	if err == nil {
		return dir, nil
	}
	uid, uerr := t.Procs.UID(pid)
	if uerr != nil {
		return "", fmt.Errorf("state directory of the gateway (pid %d): %w", pid, err)
	}
	if uid == os.Getuid() {
		return t.Config.StateDir, nil // our ~ is its ~
	}
	if u, lerr := user.LookupId(strconv.Itoa(uid)); lerr == nil && u.HomeDir != "" {
		home := filepath.Join(u.HomeDir, ".openclaw")
		if fi, serr := os.Stat(home); serr == nil && fi.IsDir() {
			return home, nil
		}
	}
	return "", fmt.Errorf("state_dir is left at its default, and the state directory of the gateway (pid %d, uid %d) is unknown: its environment is not readable (%w) and its user's home has no .openclaw; set state_dir, or give the exporter CAP_SYS_PTRACE", pid, uid, err)
}
