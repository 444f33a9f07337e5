// Package gatewaysim is a stand-in for the OpenClaw gateway's observable
// surface (HTTP health and readiness, Control UI page, OpenAI-compatible chat,
// tslog files, lock files, its own process) with faults injected through a
// control API on a separate listener. The conformance test in e2e/ holds it
// against the real gateway.
package gatewaysim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// ExitConfig is the gateway's exit code for "cannot start with this
// configuration": port taken, lock held (systemd: RestartPreventExitStatus=78).
const ExitConfig = 78

// Config configures a simulator.
type Config struct {
	Port     int
	Bind     string // loopback, lan, auto, or an IP address
	StateDir string
	LogDir   string
	Profile  string // log file name: openclaw-<profile>-DATE.log
	// Token is the gateway token: /v1/* and the RPC's connect require it.
	// Empty: /v1/* accepts any caller and the RPC refuses device-less
	// clients, as the gateway does with auth mode none.
	Token       string
	Version     string
	ControlAddr string
	LogMaxBytes int64 // rotation size of the log file
	// StartupDelay is how long /readyz reports "startup-sidecars" after the
	// start, as the real gateway does for a few seconds.
	StartupDelay time.Duration
	// ReasoningFormat is where chat answers put the thinking:
	// ReasoningFormatNone (inline <think> block, the default) or
	// ReasoningFormatDeepSeek (message.reasoning_content).
	ReasoningFormat string
	// Faults are in force from the start, as if posted to the control API
	// at once: a gateway that comes back broken after a restart.
	Faults []Fault
	// Replace stops the gateway listening on Port before claiming it, as
	// `openclaw update` and `openclaw gateway restart` replace the running
	// gateway; a listener that is not a gateway is never touched.
	Replace bool
	Logger  *slog.Logger
	// Exit ends the process for the crash fault; tests replace it.
	Exit func(code int)
}

// StartError is a failure to start, with the process exit code it maps to.
type StartError struct {
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// Sim is a running simulator.
type Sim struct {
	cfg     Config
	logger  *slog.Logger
	started time.Time
	self    openclaw.Process
	// lockStart is self's start time as its lock records it.
	lockStart uint64
	log       *logFile
	loop      *eventLoop
	cpu       *cpuSampler
	answers   *answerBook
	buildID   string
	bootID    string
	lockPath  []string
	// rpcCtx ends the WebSocket connections at shutdown: the HTTP server's
	// Shutdown does not track hijacked connections.
	rpcCtx context.Context

	gateway []net.Listener
	control net.Listener

	// active counts the completions in flight, the work a stop drains;
	// draining is set from the stop signal until they are done.
	active   atomic.Int64
	draining atomic.Bool

	changeMu sync.Mutex // serialises fault changes
	mu       sync.Mutex // guards the fields below
	faults   map[string]*activeFault
	// stopped holds the channels stopped by channels.stop; manual, those
	// an operator started by hand (channels.start), which safe mode then
	// leaves alone.
	stopped, manual map[string]bool
	leaked          []*os.File
	memory          [][]byte
}

// New validates the configuration, claims the port and the lock, and opens
// the log. Nothing is served until Run.
func New(cfg Config) (*Sim, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Exit == nil {
		cfg.Exit = os.Exit
	}
	if cfg.LogMaxBytes <= 0 {
		cfg.LogMaxBytes = 100 << 20
	}
	if cfg.Port <= 0 || cfg.Port > 65535 {
		return nil, &StartError{Code: 2, Err: fmt.Errorf("--port: %d is not a TCP port", cfg.Port)}
	}
	switch cfg.ReasoningFormat {
	case "":
		cfg.ReasoningFormat = ReasoningFormatNone
	case ReasoningFormatNone, ReasoningFormatDeepSeek:
	default:
		return nil, &StartError{Code: 2, Err: fmt.Errorf("--reasoning-format: %q is not %s or %s", cfg.ReasoningFormat, ReasoningFormatNone, ReasoningFormatDeepSeek)}
	}
	for _, f := range cfg.Faults {
		if f.Kind == FaultCrash {
			return nil, &StartError{Code: 2, Err: fmt.Errorf("--fault: %q cannot be in force from the start; post it to the control API", FaultCrash)}
		}
	}
	hosts, err := bindHosts(cfg.Bind)
	if err != nil {
		return nil, &StartError{Code: 2, Err: err}
	}
	self, err := openclaw.DefaultProcFS.Identify(os.Getpid())
	if err != nil {
		return nil, &StartError{Code: 1, Err: fmt.Errorf("read own process identity: %w", err)}
	}
	// The lock records the start time in the unit the gateway uses on this
	// platform, which is not always the process table's.
	lockStart, err := openclaw.DefaultProcFS.LockStartTime(self.PID)
	if err != nil {
		return nil, &StartError{Code: 1, Err: fmt.Errorf("read own start time: %w", err)}
	}
	s := &Sim{
		cfg:       cfg,
		logger:    cfg.Logger,
		started:   time.Now(),
		self:      self,
		lockStart: lockStart,
		loop:      newEventLoop(),
		cpu:       newCPUSampler(),
		faults:    map[string]*activeFault{},
		stopped:   map[string]bool{},
		manual:    map[string]bool{},
		buildID:   cfg.Version + "-sim-" + strconv.FormatUint(self.StartTime, 16),
		bootID:    newUUID(),
		rpcCtx:    context.Background(),
	}
	if s.answers, err = newAnswerBook(); err != nil {
		return nil, &StartError{Code: 1, Err: err}
	}
	if err := checkDir("--state-dir", cfg.StateDir); err != nil {
		return nil, &StartError{Code: 1, Err: err}
	}
	if s.log, err = openLogFile(cfg.LogDir, cfg.Profile, cfg.LogMaxBytes); err != nil {
		return nil, &StartError{Code: 1, Err: fmt.Errorf("--log-dir: %w", err)}
	}
	s.logf(openclaw.LevelInfo, "gateway", "starting...")
	if cfg.Replace {
		if err := replaceGateway(cfg.Port, replaceGrace, s.logf); err != nil {
			s.log.Close()
			return nil, err
		}
	}
	if err := s.listen(hosts); err != nil {
		s.closeListeners()
		s.logf(openclaw.LevelError, "gateway", "%v", err)
		s.log.Close()
		return nil, err
	}
	if err := s.writeLocks(); err != nil {
		s.closeListeners()
		s.log.Close()
		return nil, err
	}
	return s, nil
}

// ReadTokenFile reads a token file: one token, surrounding whitespace
// trimmed; an empty file is an error rather than "no auth".
func ReadTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", fmt.Errorf("%s: more than one line", path)
	}
	return token, nil
}

func bindHosts(bind string) ([]string, error) {
	switch bind {
	case "", "loopback":
		return []string{"127.0.0.1", "::1"}, nil
	case "lan", "auto":
		return []string{""}, nil
	}
	if ip := net.ParseIP(bind); ip != nil {
		return []string{bind}, nil
	}
	return nil, fmt.Errorf("--bind: %q is not loopback, lan, auto or an IP address", bind)
}

// checkDir creates dir if needed and proves it writable, so that a bad
// directory fails at start with its name rather than later.
func checkDir(flag, dir string) error {
	if dir == "" {
		return fmt.Errorf("%s: empty", flag)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("%s: %s is not writable: %w", flag, dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

func (s *Sim) listen(hosts []string) error {
	for i, host := range hosts {
		addr := net.JoinHostPort(host, strconv.Itoa(s.cfg.Port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if i > 0 && host == "::1" && !errors.Is(err, syscall.EADDRINUSE) {
				continue // no IPv6 loopback on this host
			}
			if errors.Is(err, syscall.EADDRINUSE) {
				// The real gateway's wording, on one line.
				return &StartError{Code: ExitConfig, Err: fmt.Errorf(
					"Gateway failed to start: another gateway instance is already listening on ws://%s | listen EADDRINUSE: address already in use %s | EADDRINUSE", addr, addr)}
			}
			return &StartError{Code: 1, Err: fmt.Errorf("Gateway failed to start: listen %s: %w", addr, err)}
		}
		s.gateway = append(s.gateway, ln)
	}
	ln, err := net.Listen("tcp", s.cfg.ControlAddr)
	if err != nil {
		code := 1
		if errors.Is(err, syscall.EADDRINUSE) {
			code = ExitConfig
		}
		return &StartError{Code: code, Err: fmt.Errorf("--control.listen-address: %w", err)}
	}
	s.control = ln
	return nil
}

func (s *Sim) closeListeners() {
	for _, ln := range s.gateway {
		ln.Close()
	}
	if s.control != nil {
		s.control.Close()
	}
}

// writeLocks writes gateway.<hash>.lock and gateway.state.lock the way the
// gateway does, refusing to start while a live process holds them.
func (s *Sim) writeLocks() error {
	dir := openclaw.LockDir(s.cfg.StateDir, os.Getuid())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &StartError{Code: 1, Err: fmt.Errorf("--state-dir: lock directory: %w", err)}
	}
	configPath := filepath.Join(s.cfg.StateDir, "openclaw.json")
	names := []string{openclaw.LockFileName(configPath), openclaw.StateLockName}
	locks, _ := openclaw.FindLocks(dir)
	for _, lf := range locks {
		if lf.Err != nil || !slices.Contains(names, filepath.Base(lf.Path)) {
			continue
		}
		if st, err := lf.Lock.State(openclaw.DefaultProcFS); err == nil && st == openclaw.LockLive && lf.Lock.PID != os.Getpid() {
			// The real gateway's wording.
			return &StartError{Code: ExitConfig, Err: fmt.Errorf("Another gateway (pid %d) already owns this state directory; refusing to run automatic startup migrations or report the gateway ready. Lock: %s", lf.Lock.PID, lf.Path)}
		}
		s.logf(openclaw.LevelWarn, "gateway", "replacing stale lock %s (pid %d)", lf.Path, lf.Lock.PID)
	}
	lock := openclaw.Lock{
		PID:                 os.Getpid(),
		OwnerID:             newUUID(),
		CronOwnerProjection: "dynamic-default-v1",
		CreatedAt:           time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		ConfigPath:          configPath,
		StateDir:            s.cfg.StateDir,
		Port:                s.cfg.Port,
		StartTime:           s.lockStart,
	}
	data := lock.Marshal()
	for _, name := range names {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return &StartError{Code: 1, Err: fmt.Errorf("--state-dir: write lock: %w", err)}
		}
		s.lockPath = append(s.lockPath, path)
	}
	return nil
}

// Run serves until ctx ends, then shuts down cleanly: listeners closed,
// locks removed, log closed.
func (s *Sim) Run(ctx context.Context) error {
	// Idle keep-alive connections are closed; no read or write timeout,
	// which would cut the hang fault's never-answered requests and the
	// long-lived WebSocket RPC short.
	gw := &http.Server{Handler: s.gatewayHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	ctl := &http.Server{Handler: s.controlHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	errc := make(chan error, len(s.gateway)+1)
	rpcCtx, stopRPC := context.WithCancel(context.Background())
	defer stopRPC()
	s.rpcCtx = rpcCtx
	// Before the first request is served, so that none escapes them.
	for _, f := range s.cfg.Faults {
		s.logger.Info("fault in force from the start", "fault", string(f.Spec))
		s.inject(f)
	}
	for _, ln := range s.gateway {
		go func() { errc <- gw.Serve(ln) }()
	}
	go func() { errc <- ctl.Serve(s.control) }()
	s.logf(openclaw.LevelInfo, "gateway", "listening on ws://%s (PID %d)", s.gateway[0].Addr(), os.Getpid())
	s.logger.Info("simulator ready", "gateway", s.GatewayAddr(), "control", s.ControlAddr(), "pid", os.Getpid(), "version", s.cfg.Version)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	begin := time.Now()
	s.logf(openclaw.LevelInfo, "gateway", "signal received; shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The control API first, so no fault arrives after the clearing that
	// releases hung requests for the gateway's shutdown to drain.
	_ = ctl.Shutdown(shutCtx)
	s.clearFaults()
	s.drain()
	stopRPC()
	if gw.Shutdown(shutCtx) != nil {
		gw.Close()
	}
	for _, p := range s.lockPath {
		if rmErr := os.Remove(p); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = errors.Join(err, fmt.Errorf("remove lock: %w", rmErr))
		}
	}
	s.logf(openclaw.LevelInfo, "shutdown", "completed cleanly in %dms", time.Since(begin).Milliseconds())
	s.log.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// maxDrain is the real gateway's drain budget of a foreground stop
// (drain=315000ms).
const maxDrain = 315 * time.Second

// drain waits, as the real gateway's SIGTERM handler does, for the
// completions in flight to finish before the servers close, saying so on
// /readyz (gateway-draining) and /startupz (draining) meanwhile.
func (s *Sim) drain() {
	// Admission closes first, so that nothing is admitted unseen.
	s.draining.Store(true)
	n := s.active.Load()
	if n == 0 {
		return
	}
	s.logf(openclaw.LevelInfo, "gateway", "draining active work before stop with timeout %dms: rootRequests=%d", maxDrain.Milliseconds(), n)
	deadline := time.Now().Add(maxDrain)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.active.Load() > 0 && time.Now().Before(deadline) {
		<-tick.C
	}
	s.logf(openclaw.LevelInfo, "gateway", "active-work drain settled; beginning server close")
}

// GatewayAddr is the first gateway listener's address.
func (s *Sim) GatewayAddr() string { return s.gateway[0].Addr().String() }

// ControlAddr is the control API listener's address.
func (s *Sim) ControlAddr() string { return s.control.Addr().String() }

func (s *Sim) logf(level openclaw.Level, subsystem, format string, args ...any) {
	if err := s.log.Log(level, subsystem, fmt.Sprintf(format, args...)); err != nil {
		s.logger.Warn("write gateway log", "err", err)
	}
}
