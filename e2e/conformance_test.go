package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// TestConformance holds the simulator against the real gateway from npm: the
// same probes, the same bodies, the same lock and log files, the same
// answers from internal/openclaw.
func TestConformance(t *testing.T) {
	openclawDir(t) // fail (CI) or skip before starting anything
	home := t.TempDir()
	starts := map[string]func(t *testing.T) *gateway{
		"real": func(t *testing.T) *gateway { return startReal(t, home) },
		"sim":  func(t *testing.T) *gateway { return startSim(t, filepath.Join(home, "sim", ".openclaw")) },
	}
	// Shapes seen by each side, compared once both have run.
	shapes := map[string]map[string]string{"real": {}, "sim": {}}

	t.Run("running", func(t *testing.T) {
		for _, name := range []string{"real", "sim"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				g := starts[name](t)
				checkRunning(t, g, shapes[name])
				checkSIGTERM(t, g)
			})
		}
	})
	t.Run("same shapes", func(t *testing.T) {
		for what, real := range shapes["real"] {
			if sim := shapes["sim"][what]; sim != real {
				t.Errorf("%s differs:\n real %s\n sim  %s", what, real, sim)
			}
		}
		if len(shapes["real"]) == 0 || len(shapes["real"]) != len(shapes["sim"]) {
			t.Errorf("compared %d real and %d simulated shapes", len(shapes["real"]), len(shapes["sim"]))
		}
	})
	t.Run("SIGKILL leaves stale locks", func(t *testing.T) {
		for _, name := range []string{"real", "sim"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				checkSIGKILL(t, starts[name](t))
			})
		}
	})
}

func checkRunning(t *testing.T, g *gateway, shapes map[string]string) {
	// Liveness: status, body, content type.
	resp, err := http.Get(g.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var hz bytes.Buffer
	_, _ = hz.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || strings.TrimSpace(hz.String()) != `{"ok":true,"status":"live"}` {
		t.Errorf("/healthz = %d %s", resp.StatusCode, hz.String())
	}
	shapes["healthz content type"] = resp.Header.Get("Content-Type")

	// Readiness: keys and value types, and internal/openclaw's types know
	// every key.
	code, body, err := httpGet(g.url+"/readyz", 10*time.Second)
	if err != nil || code != 200 {
		t.Fatalf("/readyz = %d %v", code, err)
	}
	shapes["readyz"] = shape(t, body)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var rz openclaw.Readyz
	if err := dec.Decode(&rz); err != nil {
		t.Errorf("/readyz does not decode strictly into openclaw.Readyz: %v\n%s", err, body)
	}
	if !rz.Ready || rz.EventLoop == nil || rz.EventLoop.CPUBreakdown == nil || rz.EventLoop.CPUBreakdown.HostCPUCount < 1 {
		t.Errorf("/readyz = %s", body)
	}

	// Lock files: where, what, and that they name this process.
	lockDir := openclaw.LockDir(g.stateDir, os.Getuid())
	locks, err := openclaw.FindLocks(lockDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	hashRe := regexp.MustCompile(`^gateway\.[0-9a-f]{8}\.lock$`)
	self, err := openclaw.DefaultProcFS.Identify(g.pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, lf := range locks {
		name := filepath.Base(lf.Path)
		if hashRe.MatchString(name) {
			name = "gateway.<hash>.lock"
			if want := openclaw.LockFileName(lf.Lock.ConfigPath); filepath.Base(lf.Path) != want {
				t.Errorf("lock %s: want the name %s for config %s", lf.Path, want, lf.Lock.ConfigPath)
			}
		}
		names = append(names, name)
		if lf.Err != nil {
			t.Errorf("lock %s: %v", lf.Path, lf.Err)
			continue
		}
		if lf.Lock.PID != self.PID || lf.Lock.StartTime != self.StartTime {
			t.Errorf("lock %s names (%d, %d), the gateway is (%d, %d)", lf.Path, lf.Lock.PID, lf.Lock.StartTime, self.PID, self.StartTime)
		}
		if st, err := lf.Lock.State(openclaw.DefaultProcFS); err != nil || st != openclaw.LockLive {
			t.Errorf("lock %s: state %s %v, want live", lf.Path, st, err)
		}
		raw, err := os.ReadFile(lf.Path)
		if err != nil {
			t.Fatal(err)
		}
		end := bytes.LastIndexByte(raw, '}') + 1
		shapes["lock "+name] = shape(t, raw[:end])
		shapes["lock "+name+" trailer"] = fmt.Sprintf("%d bytes of tabs, spaces and newlines", len(raw)-end)
		if strings.Trim(string(raw[end:]), " \t\n") != "" {
			t.Errorf("lock %s: trailer is not whitespace: %q", lf.Path, raw[end:])
		}
	}
	sort.Strings(names)
	shapes["lock files"] = strings.Join(names, " ")

	// Logs: the newest file's name, and every line decodes.
	lf, err := openclaw.NewestLog("", g.logDirs...)
	if err != nil {
		t.Fatal(err)
	}
	shapes["log file name"] = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`).ReplaceAllString(filepath.Base(lf.Path), "DATE")
	checkLogLines(t, lf.Path)

	// Discovery by port finds the gateway itself.
	pid, err := openclaw.DefaultProcFS.ListenerPID(g.port)
	if err != nil || pid != g.pid {
		t.Errorf("ListenerPID(%d) = %d, %v; want %d", g.port, pid, err, g.pid)
	}
	found, method, err := openclaw.Discoverer{Procs: openclaw.DefaultProcFS, Port: g.port, LockDirs: []string{lockDir}}.Find(openclaw.Process{})
	if err != nil || found != self || method != openclaw.ByPort {
		t.Errorf("Find = %+v %s %v; want %+v by port", found, method, err, self)
	}

	// Version discovery reports the running version.
	v, err := openclaw.DiscoverVersion(context.Background(), http.DefaultClient, g.url, openclaw.DefaultProcFS, g.pid)
	if err != nil || v.Version != openclawVersion {
		t.Errorf("DiscoverVersion = %+v, %v; want %s", v, err, openclawVersion)
	}
	if g.name == "real" {
		// The fallback through the worker children works on the real one.
		v, err := openclaw.VersionFromInstall(openclaw.DefaultProcFS, g.pid)
		if err != nil || v.Version != openclawVersion {
			t.Errorf("VersionFromInstall = %+v, %v; want %s", v, err, openclawVersion)
		}
	}
}

// checkLogLines decodes every line of a log file with internal/openclaw.
func checkLogLines(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	n := 0
	for sc.Scan() {
		n++
		var r openclaw.Record
		if err := openclaw.DecodeRecord(sc.Bytes(), &r); err != nil {
			t.Errorf("%s line %d: %v: %.200s", path, n, err, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Errorf("%s is empty", path)
	}
}

func checkSIGTERM(t *testing.T, g *gateway) {
	if err := g.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, err := g.wait(60 * time.Second)
	if err != nil || code != 0 {
		t.Errorf("exit after SIGTERM = %d, %v; want 0", code, err)
	}
	locks, err := openclaw.FindLocks(openclaw.LockDir(g.stateDir, os.Getuid()))
	if err != nil || len(locks) != 0 {
		t.Errorf("locks after SIGTERM = %+v, %v; want none", locks, err)
	}
}

func checkSIGKILL(t *testing.T, g *gateway) {
	if err := g.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code, err := g.wait(30 * time.Second); err != nil || code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit after SIGKILL = %d, %v", code, err)
	}
	locks, err := openclaw.FindLocks(openclaw.LockDir(g.stateDir, os.Getuid()))
	if err != nil || len(locks) != 2 {
		t.Fatalf("locks after SIGKILL = %+v, %v; want both left behind", locks, err)
	}
	for _, lf := range locks {
		st, err := lf.Lock.State(openclaw.DefaultProcFS)
		if err != nil || !st.Stale() || lf.Lock.PID != g.pid {
			t.Errorf("lock %s after SIGKILL: pid %d state %s %v; want stale, naming %d", lf.Path, lf.Lock.PID, st, err, g.pid)
		}
	}
}

// nullable are keys whose value is a number or null depending on the
// moment (degradedSinceMs is null unless the loop is degraded); optional are
// keys the real gateway sometimes leaves out (the worker and other-thread CPU
// ratios, while it has no sample for them yet).
var (
	nullable = map[string]bool{"degradedSinceMs": true}
	optional = map[string]bool{"workerCoreRatio": true, "otherThreadsCoreRatio": true}
)

// shape renders a JSON document's keys and value types, not its values:
// {"a":1,"b":{"c":null}} is {a:number,b:{c:null}}.
func shape(t *testing.T, doc []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("shape of %s: %v", doc, err)
	}
	var walk func(v any) string
	walk = func(v any) string {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				if !optional[k] {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				typ := walk(x[k])
				if nullable[k] && (typ == "null" || typ == "number") {
					typ = "number|null"
				}
				parts[i] = k + ":" + typ
			}
			return "{" + strings.Join(parts, ",") + "}"
		case []any:
			return "array"
		case string:
			return "string"
		case float64:
			return "number"
		case bool:
			return "bool"
		default:
			return "null"
		}
	}
	return walk(v)
}
