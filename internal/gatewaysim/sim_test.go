package gatewaysim_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/exporter/reasoning/suite"
	"github.com/clawwatch/clawwatch/internal/gatewaysim"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// get fetches url with a deadline and returns status and body.
func get(url string, timeout time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var buf strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&buf)
	return resp.StatusCode, []byte(buf.String()), err
}

func readyz(t *testing.T, s *simtest.Sim) (int, openclaw.Readyz) {
	t.Helper()
	code, body, err := get(s.URL+"/readyz", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r openclaw.Readyz
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("readyz body %s: %v", body, err)
	}
	return code, r
}

func TestHealthReadyAndVersion(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Version: "2026.8.1"})
	for _, path := range []string{"/health", "/healthz"} {
		code, body, err := get(s.URL+path, 5*time.Second)
		if err != nil || code != 200 || strings.TrimSpace(string(body)) != `{"ok":true,"status":"live"}` {
			t.Errorf("%s = %d %s %v", path, code, body, err)
		}
	}
	// No Control UI page for a scrape pointed at the gateway by mistake.
	if code, body, err := get(s.URL+"/metrics", 5*time.Second); err != nil || code != http.StatusNotFound || strings.Contains(string(body), "<html") {
		t.Errorf("/metrics = %d %s %v, want 404 without the Control UI", code, body, err)
	}
	code, r := readyz(t, s)
	if code != 200 || !r.Ready || r.Failing == nil || len(r.Failing) != 0 || r.EventLoop == nil || r.EventLoop.CPUBreakdown == nil {
		t.Errorf("readyz = %d %+v", code, r)
	}
	v, err := openclaw.VersionFromControlUI(context.Background(), http.DefaultClient, s.URL)
	if err != nil || v.Version != "2026.8.1" {
		t.Errorf("version = %+v, %v", v, err)
	}
	// Discovery by port finds the simulator's pid.
	d := openclaw.Discoverer{Procs: openclaw.DefaultProcFS, Port: s.Port}
	p, m, err := d.Find(openclaw.Process{})
	if err != nil || p.PID != s.PID || m != openclaw.ByPort {
		t.Errorf("Find = %+v %s %v, want pid %d by port", p, m, err, s.PID)
	}
	st := s.State(t)
	if st.PID != s.PID || st.Version != "2026.8.1" || st.OpenFDs < 3 || st.RSSBytes == 0 {
		t.Errorf("state = %+v", st)
	}
}

func TestStartupDelay(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Args: []string{"--startup-delay", "5s"}})
	code, r := readyz(t, s)
	if r.UptimeMs == nil {
		t.Fatalf("readyz = %d %+v, want details", code, r)
	}
	// Judged by the uptime the answer itself reports, not by our clock.
	if *r.UptimeMs < 5000 && (code != http.StatusServiceUnavailable || len(r.Failing) != 1 || r.Failing[0] != openclaw.FailingStartupSidecars) {
		t.Errorf("readyz at uptime %.0fms = %d %+v, want 503 startup-sidecars", *r.UptimeMs, code, r)
	}
	simtest.Eventually(t, 20*time.Second, func() error {
		if code, r := readyz(t, s); code != 200 || !r.Ready {
			return fmt.Errorf("readyz = %d %+v", code, r)
		}
		return nil
	})
}

func TestHang(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"hang"}`)
	// The port accepts connections ...
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), 5*time.Second)
	if err != nil {
		t.Fatalf("dial hung gateway: %v", err)
	}
	conn.Close()
	// ... but nothing answers.
	if _, _, err := get(s.URL+"/healthz", 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("healthz on a hung gateway: err = %v, want a deadline", err)
	}
	code, body := s.Control(t, http.MethodGet, "/faults", "")
	if code != 200 || body != `{"active":[{"kind":"hang"}]}`+"\n" {
		t.Errorf("GET /faults = %d %s", code, body)
	}
	if code, _ := s.Control(t, http.MethodDelete, "/faults", ""); code != 204 {
		t.Fatalf("DELETE /faults = %d", code)
	}
	if code, _, err := get(s.URL+"/healthz", 5*time.Second); err != nil || code != 200 {
		t.Fatalf("healthz after clearing: %d %v", code, err)
	}
}

func TestSlow(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"slow","latency":"300ms"}`)
	start := time.Now()
	if code, _, err := get(s.URL+"/healthz", 10*time.Second); err != nil || code != 200 {
		t.Fatalf("healthz: %d %v", code, err)
	}
	// A lower bound only: the answer cannot come before the added latency.
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("slow healthz answered in %s, want at least 300ms", d)
	}
}

func TestEventLoopStall(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"event_loop_stall","every":"3s","duration":"1s"}`)
	simtest.Eventually(t, 20*time.Second, func() error {
		_, r := readyz(t, s)
		el := r.EventLoop
		if el == nil || !el.Degraded || el.DelayMaxMs < 1000 || el.DegradedSinceMs == nil || len(el.Reasons) == 0 || el.Reasons[0] != openclaw.ReasonEventLoopDelay {
			return fmt.Errorf("readyz event loop = %+v", el)
		}
		return nil
	})
	// The stall also shows in the log, like the gateway's liveness warning.
	waitForLogLine(t, s, func(r openclaw.Record) bool {
		return r.Level == openclaw.LevelWarn && strings.HasPrefix(r.Message, "liveness warning: reasons=event_loop_delay")
	})
}

func TestFDLeak(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	before, err := openclaw.DefaultProcFS.OpenFDs(s.PID)
	if err != nil {
		t.Fatal(err)
	}
	s.Fault(t, `{"kind":"fd_leak","per_second":200}`)
	simtest.Eventually(t, 20*time.Second, func() error {
		n, err := openclaw.DefaultProcFS.OpenFDs(s.PID)
		if err != nil || n < before+100 {
			return fmt.Errorf("open fds %d (before %d), %v", n, before, err)
		}
		return nil
	})
	s.Control(t, http.MethodDelete, "/faults/fd_leak", "")
	simtest.Eventually(t, 20*time.Second, func() error {
		n, err := openclaw.DefaultProcFS.OpenFDs(s.PID)
		if err != nil || n > before+20 {
			return fmt.Errorf("open fds %d after clearing (before %d), %v", n, before, err)
		}
		return nil
	})
}

func TestMemoryLeak(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	before, err := openclaw.DefaultProcFS.RSSBytes(s.PID)
	if err != nil {
		t.Fatal(err)
	}
	s.Fault(t, `{"kind":"memory_leak","bytes_per_second":"40MiB"}`)
	simtest.Eventually(t, 30*time.Second, func() error {
		n, err := openclaw.DefaultProcFS.RSSBytes(s.PID)
		if err != nil || n < before+32<<20 {
			return fmt.Errorf("rss %d (before %d), %v", n, before, err)
		}
		return nil
	})
}

func TestNotReady(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"not_ready","failing":["telegram","discord"]}`)
	code, r := readyz(t, s)
	if code != http.StatusServiceUnavailable || r.Ready || strings.Join(r.Failing, ",") != "telegram,discord" {
		t.Errorf("readyz = %d %+v", code, r)
	}
	// Liveness is unaffected: the gateway answers while a channel is dead.
	if code, _, err := get(s.URL+"/healthz", 5*time.Second); err != nil || code != 200 {
		t.Errorf("healthz: %d %v", code, err)
	}
}

// chat asks the simulator one question and returns the answer content.
func chat(t *testing.T, s *simtest.Sim, token, prompt string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": "qwen", "messages": []map[string]string{{"role": "user", "content": prompt}}})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/chat/completions", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	if resp.StatusCode != 200 {
		return resp.StatusCode, ""
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Choices) != 1 {
		t.Fatalf("chat answer: %v %+v", err, out)
	}
	return resp.StatusCode, out.Choices[0].Message.Content
}

// passes grades an answer after the think block by the test's own rule.
func passes(content string, test *suite.Test) bool {
	_, answer, ok := strings.Cut(content, "</think>")
	if !ok || !strings.HasPrefix(content, "<think>") {
		return false
	}
	pass, _ := test.Match.Check(answer)
	return pass
}

func TestReasoning(t *testing.T) {
	st := suite.Default()
	s := simtest.Start(t, simtest.Options{Token: "s3cret"})
	if code, _ := chat(t, s, "wrong", st.Tests[0].Prompt); code != http.StatusUnauthorized {
		t.Errorf("wrong token: status %d, want 401", code)
	}
	passed := func() int {
		n := 0
		for _, tc := range st.Tests {
			if _, content := chat(t, s, "s3cret", tc.Prompt); passes(content, tc) {
				n++
			}
		}
		return n
	}
	if got := passed(); got != len(st.Tests) {
		t.Errorf("healthy: %d of %d pass", got, len(st.Tests))
	}
	s.Fault(t, `{"kind":"reasoning_degraded","fail_ratio":0.5}`)
	if got, want := passed(), len(st.Tests)-len(st.Tests)/2; got != want {
		t.Errorf("fail_ratio 0.5: %d of %d pass, want %d", got, len(st.Tests), want)
	}
	s.Fault(t, `{"kind":"reasoning_degraded","fail_ratio":1}`)
	if got := passed(); got != 0 {
		t.Errorf("fail_ratio 1: %d pass, want 0", got)
	}
}

// waitForLogLine polls the newest log file until a decoded line matches.
func waitForLogLine(t *testing.T, s *simtest.Sim, match func(openclaw.Record) bool) {
	t.Helper()
	simtest.Eventually(t, 20*time.Second, func() error {
		lf, err := openclaw.NewestLog("", s.LogDir)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(lf.Path)
		if err != nil {
			return err
		}
		for line := range strings.SplitSeq(strings.TrimSpace(string(data)), "\n") {
			var r openclaw.Record
			if err := openclaw.DecodeRecord([]byte(line), &r); err != nil {
				return fmt.Errorf("undecodable line %q: %v", line, err)
			}
			if match(r) {
				return nil
			}
		}
		return errors.New("no matching line yet")
	})
}

func TestErrorBurst(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"error_burst","pattern":"ModelNotResponding","per_second":20}`)
	waitForLogLine(t, s, func(r openclaw.Record) bool {
		return r.Level == openclaw.LevelError && strings.Contains(r.Message, "ModelNotResponding")
	})
}

func TestLogFloodRotates(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Args: []string{"--log-max-size", "64KiB"}})
	s.Fault(t, `{"kind":"log_flood","bytes_per_second":"2MiB"}`)
	simtest.Eventually(t, 30*time.Second, func() error {
		lf, err := openclaw.NewestLog("", s.LogDir)
		if err != nil {
			return err
		}
		if _, err := os.Stat(openclaw.RotatedLogName(lf.Path, 5)); err != nil {
			return err
		}
		return nil
	})
	matches, _ := filepath.Glob(filepath.Join(s.LogDir, "openclaw-*.6.log"))
	if len(matches) != 0 {
		t.Errorf("more than 5 archives: %v", matches)
	}
}

func lockFiles(t *testing.T, s *simtest.Sim) []openclaw.LockFile {
	t.Helper()
	locks, err := openclaw.FindLocks(openclaw.LockDir(s.StateDir, os.Getuid()))
	if err != nil {
		t.Fatal(err)
	}
	return locks
}

func TestCrashLeavesStaleLocks(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	locks := lockFiles(t, s)
	if len(locks) != 2 {
		t.Fatalf("locks = %+v, want gateway.<hash>.lock and gateway.state.lock", locks)
	}
	for _, l := range locks {
		if st, err := l.Lock.State(openclaw.DefaultProcFS); l.Err != nil || err != nil || st != openclaw.LockLive || l.Lock.PID != s.PID {
			t.Fatalf("lock %s: %+v state %s %v", l.Path, l, st, err)
		}
	}
	s.Fault(t, `{"kind":"crash"}`)
	if code := s.Wait(t, 10*time.Second); code != 1 {
		t.Errorf("exit code after crash = %d, want 1", code)
	}
	locks = lockFiles(t, s)
	if len(locks) != 2 {
		t.Fatalf("after crash: locks = %+v, want both left behind", locks)
	}
	for _, l := range locks {
		if st, err := l.Lock.State(openclaw.DefaultProcFS); err != nil || st != openclaw.LockOwnerDead {
			t.Errorf("lock %s after crash: state %s %v, want owner_dead", l.Path, st, err)
		}
	}
	// A new gateway on the same state directory replaces the stale locks.
	s2 := simtest.Start(t, simtest.Options{StateDir: s.StateDir})
	for _, l := range lockFiles(t, s2) {
		if l.Lock.PID != s2.PID {
			t.Errorf("lock %s still names pid %d, want %d", l.Path, l.Lock.PID, s2.PID)
		}
	}
}

func TestSignalsRemoveLocks(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s := simtest.Start(t, simtest.Options{})
			s.Fault(t, `{"kind":"hang"}`) // a hung request must not block shutdown
			go get(s.URL+"/healthz", 30*time.Second)
			if err := s.Cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := s.Wait(t, 20*time.Second); code != 0 {
				t.Errorf("exit code = %d, want 0\n%s", code, s.Output())
			}
			if locks := lockFiles(t, s); len(locks) != 0 {
				t.Errorf("locks left after %s: %+v", sig, locks)
			}
		})
	}
}

func TestStartFailures(t *testing.T) {
	first := simtest.Start(t, simtest.Options{})
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		opts     simtest.Options
		wantCode int
		wantText string
	}{
		{"port taken", simtest.Options{Port: first.Port}, gatewaysim.ExitConfig, "EADDRINUSE"},
		{"lock held", simtest.Options{StateDir: first.StateDir}, gatewaysim.ExitConfig, "already owns this state directory"},
		{"bad port flag", simtest.Options{Args: []string{"--port", "http"}}, 2, "port"},
		{"unknown flag", simtest.Options{Args: []string{"--colour"}}, 2, "colour"},
		{"bad bind", simtest.Options{Args: []string{"--bind", "everywhere"}}, 2, "--bind"},
		{"state dir unusable", simtest.Options{StateDir: filepath.Join(notADir, "state")}, 1, "--state-dir"},
		{"log dir unusable", simtest.Options{LogDir: filepath.Join(notADir, "logs")}, 1, "--log-dir"},
		{"bad startup fault", simtest.Options{Args: []string{"--fault", `{"kind":"fd_leak"}`}}, 2, "per_second"},
		{"crash from the start", simtest.Options{Args: []string{"--fault", `{"kind":"crash"}`}}, 2, "--fault"},
		{"open files above the hard limit", simtest.Options{Args: []string{"--max-open-files", "18446744073709551615"}}, 2, "--max-open-files"},
		// --replace leaves a listener alone that is not a gateway.
		{"replace a non-gateway", simtest.Options{Port: listenerPort(t), Args: []string{"--replace"}}, gatewaysim.ExitConfig, "EADDRINUSE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := simtest.Launch(t, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			code := s.Wait(t, 20*time.Second)
			out := strings.TrimSpace(s.Output())
			if code != c.wantCode || !strings.Contains(out, c.wantText) || strings.Contains(out, "\n") {
				t.Errorf("exit %d, output %q; want exit %d and one line containing %q", code, out, c.wantCode, c.wantText)
			}
		})
	}
}

// listenerPort is a port this test process listens on until the test ends.
func listenerPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().(*net.TCPAddr).Port
}

func TestStartupFaults(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Args: []string{
		"--fault", `{"kind":"not_ready","failing":["telegram"]}`,
		"--fault", `{"kind":"reasoning_degraded", "fail_ratio":0.5}`,
	}})
	code, r := readyz(t, s)
	if code != http.StatusServiceUnavailable || strings.Join(r.Failing, ",") != "telegram" {
		t.Errorf("readyz = %d %+v, want not ready from the start", code, r)
	}
	want := `{"active":[{"kind":"not_ready","failing":["telegram"]},{"kind":"reasoning_degraded","fail_ratio":0.5}]}` + "\n"
	if code, body := s.Control(t, http.MethodGet, "/faults", ""); code != 200 || body != want {
		t.Errorf("GET /faults = %d %s, want %s", code, body, want)
	}
	// Cleared like a posted fault.
	s.Control(t, http.MethodDelete, "/faults/not_ready", "")
	if code, r := readyz(t, s); code != http.StatusOK || !r.Ready {
		t.Errorf("readyz after clearing = %d %+v", code, r)
	}
}

func TestMaxOpenFiles(t *testing.T) {
	s := simtest.Start(t, simtest.Options{Args: []string{"--max-open-files", "64"}})
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", s.PID))
	if err != nil {
		t.Fatal(err)
	}
	var soft string
	for _, line := range strings.Split(string(limits), "\n") {
		if f := strings.Fields(strings.TrimPrefix(line, "Max open files")); strings.HasPrefix(line, "Max open files") && len(f) > 0 {
			soft = f[0]
		}
	}
	if soft != "64" {
		t.Fatalf("soft limit on open files %q, want 64:\n%s", soft, limits)
	}
	// A leak stops at the limit and logs EMFILE, as the gateway does.
	s.Fault(t, `{"kind":"fd_leak","per_second":200}`)
	simtest.Eventually(t, 20*time.Second, func() error {
		n, err := openclaw.DefaultProcFS.OpenFDs(s.PID)
		if err != nil || n < 60 {
			return fmt.Errorf("open fds %d, %v", n, err)
		}
		// The limit bounds descriptor numbers; inherited ones may lie above.
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.PID))
		for _, fd := range fds {
			num, _ := strconv.Atoi(fd.Name())
			if target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", s.PID, fd.Name())); num >= 64 && target == os.DevNull {
				t.Fatalf("leaked descriptor %d above the limit of 64", num)
			}
		}
		log, _ := os.ReadFile(filepath.Join(s.LogDir, openclaw.LogFileName("", time.Now())))
		if !strings.Contains(string(log), "EMFILE") {
			return errors.New("no EMFILE in the log yet")
		}
		return nil
	})
}

// TestReplaceDetached is an upgrade the way the remediator's rollback
// command does one: a new simulator with another version replaces the
// running one on the same ports and returns once it serves.
func TestReplaceDetached(t *testing.T) {
	old := simtest.Start(t, simtest.Options{Version: "2026.9.6"})
	_, ctl, _ := strings.Cut(old.ControlURL, "http://")
	cmd := exec.Command(simtest.Binary(t), "--replace", "--detach", "--port", strconv.Itoa(old.Port),
		"--control.listen-address", ctl, "--state-dir", old.StateDir, "--log-dir", old.LogDir, "--gateway-version", "2026.9.5")
	out, err := cmd.CombinedOutput()
	t.Cleanup(func() { simtest.KillListener(old.Port) })
	if err != nil {
		t.Fatalf("--replace --detach: %v\n%s", err, out)
	}
	if code := old.Wait(t, 10*time.Second); code != 0 {
		t.Errorf("the replaced simulator exited %d, want 0 (SIGTERM)", code)
	}
	st := old.State(t) // the new one, on the same control address
	if st.PID == old.PID || st.Version != "2026.9.5" || !strings.Contains(string(out), strconv.Itoa(st.PID)) {
		t.Errorf("state after replace = %+v, output %q; want a new pid at 2026.9.5", st, out)
	}
	if code, _, err := get(old.URL+"/healthz", 5*time.Second); code != 200 || err != nil {
		t.Errorf("healthz after replace = %d %v", code, err)
	}
	// The detached simulator is in its own session, not in ours.
	if sid, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(st.PID), 0, 0); errno != 0 || int(sid) != st.PID {
		t.Errorf("session of pid %d = %d %v, want its own", st.PID, sid, errno)
	}
	// A detached start that fails reports the simulator's exit code.
	fail := exec.Command(simtest.Binary(t), "--detach", "--port", strconv.Itoa(old.Port),
		"--control.listen-address", "127.0.0.1:"+strconv.Itoa(simtest.FreePort(t)), "--state-dir", t.TempDir(), "--log-dir", t.TempDir())
	out, err = fail.CombinedOutput()
	if simtest.ExitCode(err) != gatewaysim.ExitConfig || !strings.Contains(string(out), "--detach") {
		t.Errorf("detached start on a taken port: exit %d %q, want %d", simtest.ExitCode(err), out, gatewaysim.ExitConfig)
	}
}

func TestControlAPIRejectsBadFaults(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	for body, field := range map[string]string{
		`{"kind":"slow","latency":"fast"}`: "latency",
		`{"kind":"fd_leak"}`:               "per_second",
		`{"kind":"hang","every":"1s"}`:     "every",
		`{"kind":"nope"}`:                  "kind",
	} {
		code, resp := s.Control(t, http.MethodPost, "/faults", body)
		var e struct{ Error string }
		if code != http.StatusBadRequest || json.Unmarshal([]byte(resp), &e) != nil || !strings.HasPrefix(e.Error, field+":") {
			t.Errorf("POST %s = %d %s, want 400 naming %s", body, code, resp, field)
		}
	}
	if code, body := s.Control(t, http.MethodGet, "/faults", ""); code != 200 || body != `{"active":[]}`+"\n" {
		t.Errorf("rejected faults became active: %d %s", code, body)
	}
}

// A stop drains the completions in flight, as the real gateway's SIGTERM
// does: /readyz says gateway-draining and /startupz draining, new work is
// refused, the completion in flight is answered, then the simulator exits 0.
func TestSIGTERMDrains(t *testing.T) {
	s := simtest.Start(t, simtest.Options{})
	s.Fault(t, `{"kind":"slow","latency":"3s"}`)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json",
			strings.NewReader(`{"model":"sim","messages":[{"role":"user","content":"What is 2+2?"}]}`))
		if err != nil {
			done <- result{err: err}
			return
		}
		resp.Body.Close()
		done <- result{code: resp.StatusCode}
	}()
	// In flight once the slow fault holds it: the simulator counts it.
	simtest.Eventually(t, 10*time.Second, func() error {
		if code, body, err := get(s.ControlURL+"/state", time.Second); err != nil || code != 200 || !strings.Contains(string(body), `"active_requests":1`) {
			return fmt.Errorf("state: %d %v %s", code, err, body)
		}
		return nil
	})
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	simtest.Eventually(t, 10*time.Second, func() error {
		code, body, err := get(s.URL+"/readyz", time.Second)
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"gateway-draining"`) {
			return fmt.Errorf("/readyz while draining: %d %v %s", code, err, body)
		}
		return nil
	})
	if code, body, err := get(s.URL+"/startupz", time.Second); err != nil || !strings.Contains(string(body), `"status":"draining"`) {
		t.Errorf("/startupz while draining: %d %v %s", code, err, body)
	}
	resp, err := http.Post(s.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"sim","messages":[]}`))
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("new work while draining: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
	if r := <-done; r.err != nil || r.code != http.StatusOK {
		t.Errorf("the completion in flight: %d %v", r.code, r.err)
	}
	if code := s.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("exit %d after draining\n%s", code, s.Output())
	}
}
