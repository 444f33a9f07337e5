package gatewaysim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// activeFault is a fault in force; cancel stops its background effect and
// done closes when that effect has stopped.
type activeFault struct {
	Fault
	since  time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

// tick is how often background faults act; rates are spread over ticks.
const tick = 100 * time.Millisecond

// State is the body of GET /state.
type State struct {
	PID       int       `json:"pid"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	OpenFDs   int       `json:"open_fds"`
	RSSBytes  uint64    `json:"rss_bytes"`
	// ActiveRequests are the completions in flight, the work a stop
	// drains.
	ActiveRequests int64 `json:"active_requests"`
}

func (s *Sim) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"active": s.activeSpecs()})
	})
	mux.HandleFunc("POST /faults", s.postFault)
	mux.HandleFunc("DELETE /faults", func(w http.ResponseWriter, r *http.Request) {
		s.clearFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("DELETE /faults/{kind}", func(w http.ResponseWriter, r *http.Request) {
		kind := r.PathValue("kind")
		if _, ok := faultFields[kind]; !ok {
			controlError(w, fmt.Errorf("kind: unknown fault kind %q (want one of %s)", kind, kindList()))
			return
		}
		s.clearFault(kind)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, r *http.Request) {
		st := State{PID: os.Getpid(), Version: s.cfg.Version, StartedAt: s.started.UTC(), ActiveRequests: s.active.Load()}
		var err error
		if st.OpenFDs, err = openclaw.DefaultProcFS.OpenFDs(st.PID); err == nil {
			st.RSSBytes, err = openclaw.DefaultProcFS.RSSBytes(st.PID)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	return mux
}

func controlError(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
}

func (s *Sim) postFault(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		controlError(w, fmt.Errorf("body: %v", err))
		return
	}
	f, err := ParseFault(body)
	if err != nil {
		s.logger.Info("rejected fault", "err", err)
		controlError(w, err)
		return
	}
	s.logger.Info("fault injected", "fault", string(f.Spec))
	if f.Kind == FaultCrash {
		// Answer first, so the caller knows the crash was its doing; then
		// die without cleanup, leaving the locks behind.
		w.WriteHeader(http.StatusNoContent)
		_ = http.NewResponseController(w).Flush()
		s.cfg.Exit(1)
		return
	}
	s.inject(f)
	w.WriteHeader(http.StatusNoContent)
}

// inject puts f in force, replacing a fault of the same kind. Changes of
// faults are serialised so that a replaced fault's effect has fully stopped
// before the next one starts.
func (s *Sim) inject(f Fault) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.clearFaultLocked(f.Kind)
	ctx, cancel := context.WithCancel(context.Background())
	af := &activeFault{Fault: f, since: time.Now(), cancel: cancel, done: make(chan struct{})}
	var effect func()
	switch f.Kind {
	case FaultHang:
		s.loop.setHung(true)
	case FaultEventLoopStall:
		effect = func() { s.stallLoop(ctx, f) }
	case FaultFDLeak:
		effect = func() { everyTick(ctx, f.PerSecond, s.leakFDs) }
	case FaultMemoryLeak:
		effect = func() { everyTick(ctx, float64(f.BytesPerSecond), s.leakMemory) }
	case FaultErrorBurst:
		effect = func() {
			everyTick(ctx, f.PerSecond, func(n int) {
				for range n {
					s.loggedWhenFree(openclaw.LevelError, "agent", f.Pattern+": model did not respond within 60000ms")
				}
			})
		}
	case FaultLogFlood:
		effect = func() { everyTick(ctx, float64(f.BytesPerSecond), s.floodLog) }
	}
	if effect == nil {
		close(af.done)
	} else {
		go func() { defer close(af.done); effect() }()
	}
	s.mu.Lock()
	s.faults[f.Kind] = af
	if f.Kind == FaultSafeMode {
		clear(s.manual) // the breaker holds every account again
	}
	s.mu.Unlock()
}

func (s *Sim) clearFault(kind string) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	s.clearFaultLocked(kind)
}

func (s *Sim) clearFaultLocked(kind string) {
	s.mu.Lock()
	af, ok := s.faults[kind]
	delete(s.faults, kind)
	s.mu.Unlock()
	if !ok {
		return
	}
	af.cancel()
	<-af.done // the effect has stopped: nothing leaks after the release below
	switch kind {
	case FaultHang:
		s.loop.setHung(false)
	case FaultEventLoopStall:
		s.loop.thaw()
	case FaultFDLeak:
		// Clearing the fault gives the descriptors back, so that one
		// simulator can serve several scenarios; a restart does the same.
		s.mu.Lock()
		for _, f := range s.leaked {
			f.Close()
		}
		s.leaked = nil
		s.mu.Unlock()
	case FaultMemoryLeak:
		s.mu.Lock()
		s.memory = nil
		s.mu.Unlock()
		debug.FreeOSMemory()
	}
}

func (s *Sim) clearFaults() {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	for _, k := range s.activeKinds() {
		s.clearFaultLocked(k)
	}
}

func (s *Sim) activeKinds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.faults))
}

func (s *Sim) activeSpecs() []json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	specs := []json.RawMessage{}
	for _, k := range slices.Sorted(maps.Keys(s.faults)) {
		specs = append(specs, s.faults[k].Spec)
	}
	return specs
}

func (s *Sim) fault(kind string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	af, ok := s.faults[kind]
	if !ok {
		return Fault{}, false
	}
	return af.Fault, true
}

func (s *Sim) latency() time.Duration {
	f, _ := s.fault(FaultSlow)
	return f.Latency
}

func (s *Sim) failRatio() float64 {
	f, ok := s.fault(FaultReasoningDegraded)
	if !ok {
		return 0
	}
	return f.FailRatio
}

func (s *Sim) failingChecks() []string {
	f, ok := s.fault(FaultNotReady)
	if !ok {
		return []string{}
	}
	return f.Failing
}

// everyTick calls act with the whole units due at each tick of a rate per
// second, carrying fractions over so that low rates are honoured too.
func everyTick(ctx context.Context, perSecond float64, act func(n int)) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var due float64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due += perSecond * tick.Seconds()
		if n := int(due); n > 0 {
			due -= float64(n)
			act(n)
		}
	}
}

// stallLoop freezes the event loop for f.Duration every f.Every, starting at
// once. /readyz keeps reporting a stall for a while after it ends, as the
// gateway's monitor does over its interval, so that a probe every few
// seconds sees it.
func (s *Sim) stallLoop(ctx context.Context, f Fault) {
	hold := min(15*time.Second, f.Every-f.Duration)
	t := time.NewTicker(f.Every)
	defer t.Stop()
	for ctx.Err() == nil {
		s.loop.freeze(time.Now(), f.Duration, hold)
		s.logf(openclaw.LevelWarn, "diagnostic", "liveness warning: reasons=event_loop_delay interval=%ds eventLoopDelayP99Ms=%d", int(f.Every.Seconds()), f.Duration.Milliseconds())
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

func (s *Sim) leakFDs(n int) {
	for range n {
		f, err := os.Open(os.DevNull)
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				s.loggedWhenFree(openclaw.LevelError, "gateway", "Error: EMFILE: too many open files, open '/dev/null'")
			}
			return
		}
		s.mu.Lock()
		s.leaked = append(s.leaked, f)
		s.mu.Unlock()
	}
}

func (s *Sim) leakMemory(n int) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 { // touch every page so that RSS grows
		b[i] = 1
	}
	s.mu.Lock()
	s.memory = append(s.memory, b)
	s.mu.Unlock()
}

// floodLog writes about n bytes of log lines.
func (s *Sim) floodLog(n int) {
	const payload = 512
	msg := "flood: " + strings.Repeat("x", payload)
	line := len(openclaw.EncodeRecord(openclaw.Record{Level: openclaw.LevelDebug, Subsystem: "gateway/ws", Message: msg}, s.log.hostname))
	for written := 0; written < n; written += line {
		if !s.loggedWhenFree(openclaw.LevelDebug, "gateway/ws", msg) {
			return
		}
	}
}

// loggedWhenFree writes a line unless the event loop is frozen (a frozen
// Node process logs nothing) and reports whether it did.
func (s *Sim) loggedWhenFree(level openclaw.Level, subsystem, msg string) bool {
	if s.loop.busy(time.Now()) {
		return false
	}
	s.logf(level, subsystem, "%s", msg)
	return true
}
