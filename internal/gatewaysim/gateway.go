package gatewaysim

import (
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// gatewayHandler serves the gateway's port. Every request first waits for
// the event loop (hang, stall) and the slow fault, as a Node server would.
func (s *Sim) gatewayHandler() http.Handler {
	mux := http.NewServeMux()
	health := probeOnly(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, openclaw.Healthz{OK: true, Status: "live"})
	})
	mux.Handle("/health", health)
	mux.Handle("/healthz", health)
	ready := probeOnly(s.serveReadyz)
	mux.Handle("/ready", ready)
	mux.Handle("/readyz", ready)
	mux.Handle("/startupz", probeOnly(func(w http.ResponseWriter, r *http.Request) {
		code, ok, status := http.StatusOK, true, "started"
		switch {
		case s.draining.Load():
			code, ok, status = http.StatusServiceUnavailable, false, "draining"
		case s.starting():
			code, ok, status = http.StatusServiceUnavailable, false, "starting"
		}
		writeJSON(w, code, map[string]any{"ok": ok, "status": status, "version": s.cfg.Version, "uptimeMs": time.Since(s.started).Milliseconds()})
	}))
	mux.HandleFunc("POST /v1/chat/completions", s.serveChat)
	mux.HandleFunc("POST /v1/completions", s.serveCompletions)
	mux.HandleFunc("GET /v1/models", s.serveModels)
	// The real gateway answers its Control UI here too, as to every other
	// GET; the simulator answers 404 instead, so that a scrape pointed at
	// it by mistake fails plainly rather than parsing a web page.
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "404 page not found: a gateway serves no /metrics; openclaw-exporter (default :9787) exports its metrics", http.StatusNotFound)
	})
	// Like the real gateway, every other GET is the Control UI single-page app.
	mux.HandleFunc("/", s.serveControlUI)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A completion is an agent turn's work from its arrival: a stop
		// drains it, slow or not.
		if r.Method == http.MethodPost && (r.URL.Path == "/v1/chat/completions" || r.URL.Path == "/v1/completions") {
			if !s.admit() {
				openAIError(w, http.StatusServiceUnavailable, "server_error", "gateway is draining for a stop: not admitting new work")
				return
			}
			defer s.active.Add(-1)
		}
		if s.loop.wait(r.Context()) != nil {
			return // the client gave up while we were "frozen"
		}
		if d := s.latency(); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if isWebSocketUpgrade(r) { // on any path, like the gateway
			s.serveRPC(w, r)
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		mux.ServeHTTP(w, r)
	})
}

// probeOnly answers GET and HEAD and 405 otherwise, as the gateway does.
func probeOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Sim) starting() bool { return time.Since(s.started) < s.cfg.StartupDelay }

// admit counts a request as the gateway's active work, which a stop
// drains, unless it drains already: then admission is closed, as the real
// gateway's is. The caller gives it back with active.Add(-1).
func (s *Sim) admit() bool {
	s.active.Add(1)
	if s.draining.Load() {
		s.active.Add(-1)
		return false
	}
	return true
}

func (s *Sim) serveReadyz(w http.ResponseWriter, r *http.Request) {
	failing := s.failingChecks()
	if s.draining.Load() {
		failing = append([]string{openclaw.FailingDraining}, failing...)
	}
	if s.starting() {
		failing = append([]string{openclaw.FailingStartupSidecars}, failing...)
	}
	ready := len(failing) == 0
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	if !s.detailed(r) {
		writeJSON(w, code, map[string]bool{"ready": ready})
		return
	}
	uptime := float64(time.Since(s.started).Milliseconds())
	writeJSON(w, code, openclaw.Readyz{
		Ready:     ready,
		Failing:   failing,
		UptimeMs:  &uptime,
		EventLoop: s.eventLoopBlock(time.Now()),
	})
}

// detailed: local callers and holders of the token see the whole /readyz.
func (s *Sim) detailed(r *http.Request) bool {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return true
		}
	}
	return s.cfg.Token != "" && r.Header.Get("Authorization") == "Bearer "+s.cfg.Token
}

// eventLoopBlock reports the loop like the gateway's monitor: measured CPU
// figures, and a recent stall as delay, degradation and reason.
func (s *Sim) eventLoopBlock(now time.Time) *openclaw.EventLoop {
	cpu := s.cpu.sample(now)
	el := &openclaw.EventLoop{
		Reasons:      []string{},
		IntervalMs:   1000,
		DelayP99Ms:   10.5,
		DelayMaxMs:   11.2,
		Utilization:  min(cpu.process, 1),
		CPUCoreRatio: cpu.process,
		CPUBreakdown: &openclaw.CPUBreakdown{
			MainThreadCoreRatio: cpu.process,
			HostUtilization:     cpu.host,
			HostCPUCount:        runtime.NumCPU(),
		},
	}
	if st, ok := s.loop.recentStall(now); ok {
		ms := float64(st.end.Sub(st.start).Milliseconds())
		since := float64(st.start.UnixMilli())
		el.DelayP99Ms, el.DelayMaxMs = ms, ms
		if ms >= openclaw.DegradedDelayMs {
			el.Degraded = true
			el.DegradedSinceMs = &since
			el.Reasons = append(el.Reasons, openclaw.ReasonEventLoopDelay)
		}
	}
	return el
}

func (s *Sim) serveControlUI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprintf(w, `<!doctype html>
<html data-openclaw-control-ui-base-path="" %s="%s" lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>OpenClaw Control</title>
  </head>
  <body>
    <openclaw-app></openclaw-app>
    <p>openclaw-gatewaysim %s: a simulated gateway for tests.</p>
  </body>
</html>
`, openclaw.BuildIDAttr, html.EscapeString(s.buildID), html.EscapeString(s.cfg.Version))
}

// cpuSampler turns the process's and host's CPU counters into ratios over
// the time since the previous sample.
type cpuSampler struct {
	mu       sync.Mutex
	at       time.Time
	procTime time.Duration
	hostBusy uint64
	hostAll  uint64
	last     cpuRatios
}

type cpuRatios struct{ process, host float64 }

func newCPUSampler() *cpuSampler {
	c := &cpuSampler{}
	c.at = time.Now()
	c.procTime = processCPU()
	c.hostBusy, c.hostAll = hostCPU()
	return c
}

func (c *cpuSampler) sample(now time.Time) cpuRatios {
	c.mu.Lock()
	defer c.mu.Unlock()
	wall := now.Sub(c.at)
	if wall < 500*time.Millisecond { // the gateway caches for about a second too
		return c.last
	}
	proc := processCPU()
	busy, all := hostCPU()
	c.last.process = float64(proc-c.procTime) / float64(wall)
	if all > c.hostAll {
		c.last.host = float64(busy-c.hostBusy) / float64(all-c.hostAll)
	}
	c.at, c.procTime, c.hostBusy, c.hostAll = now, proc, busy, all
	return c.last
}

// hostCPU reads the aggregate line of /proc/stat: busy and total jiffies.
func hostCPU() (busy, total uint64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	for i, f := range fields[1:] {
		v, _ := strconv.ParseUint(f, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}
