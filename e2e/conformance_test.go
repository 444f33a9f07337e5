//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// TestConformance holds the simulator against the real gateway from npm: the
// same probes, the same bodies, the same lock and log files, the same
// answers from internal/openclaw.
func TestConformance(t *testing.T) {
	t.Parallel()
	openclawDir(t) // fail (CI) or skip before starting anything
	home := t.TempDir()
	// The real gateway runs a telegram channel against a Bot API on
	// loopback, for channels.stop/start and safe mode; the simulator runs
	// its own telegram channel.
	model := newSlowModel(t)
	writeConfig(t, home, conformanceConfig(fakeTelegram(t), model.url))
	// An agent turn in flight when each side is stopped.
	turns := map[string]func(t *testing.T, g *gateway) (func(), <-chan turnAnswer){
		"real": func(t *testing.T, g *gateway) (func(), <-chan turnAnswer) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			t.Cleanup(cancel)
			round := model.hold()
			return func() { close(round.release) }, startTurn(ctx, t, g, round)
		},
		"sim": simTurn,
	}
	starts := map[string]func(t *testing.T) *gateway{
		"real": func(t *testing.T) *gateway { return startReal(t, home) },
		"sim":  func(t *testing.T) *gateway { return startSim(t, filepath.Join(home, "sim", ".openclaw")) },
	}
	// Shapes seen by each side, compared once both have run.
	shapes := map[string]map[string]string{"real": {}, "sim": {}}

	// Safe mode: three unclean boots within five minutes trip the real
	// gateway's crash-loop breaker on its next start; the simulator is
	// told. On a home of its own, beside the running gateways: the boots
	// take a minute.
	safeHome := t.TempDir()
	writeConfig(t, safeHome, telegramConfig(fakeTelegram(t)))
	safe := map[string]map[string]string{"real": {}, "sim": {}}
	t.Run("started", func(t *testing.T) {
		t.Run("running", func(t *testing.T) {
			t.Parallel()
			for _, name := range []string{"real", "sim"} {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					g := starts[name](t)
					checkRunning(t, g, shapes[name])
					checkSIGTERMDrains(t, g, shapes[name], func() (func(), <-chan turnAnswer) { return turns[name](t, g) })
				})
			}
		})
		t.Run("safe mode", func(t *testing.T) {
			t.Parallel()
			for _, name := range []string{"real", "sim"} {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					var g *gateway
					if name == "real" {
						uncleanBoots(t, safeHome, 3)
						g = startReal(t, safeHome)
					} else {
						g = startSim(t, filepath.Join(safeHome, "sim", ".openclaw"))
						g.fault(t, `{"kind":"safe_mode"}`)
					}
					checkSafeMode(t, g, safe[name])
				})
			}
		})
	})
	t.Run("same shapes", func(t *testing.T) { sameShapes(t, "", shapes) })
	t.Run("same safe mode", func(t *testing.T) { sameShapes(t, "safe-mode ", safe) })
	t.Run("SIGKILL leaves stale locks", func(t *testing.T) {
		for _, name := range []string{"real", "sim"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				checkSIGKILL(t, starts[name](t))
			})
		}
	})
}

// sameShapes fails for each shape the simulator shows otherwise than the
// real gateway, and when the two saw different numbers of them, or none.
func sameShapes(t *testing.T, kind string, shapes map[string]map[string]string) {
	t.Helper()
	for what, real := range shapes["real"] {
		if sim := shapes["sim"][what]; sim != real {
			t.Errorf("%s differs:\n real %s\n sim  %s", what, real, sim)
		}
	}
	if len(shapes["real"]) == 0 || len(shapes["real"]) != len(shapes["sim"]) {
		t.Errorf("compared %d real and %d simulated %sshapes", len(shapes["real"]), len(shapes["sim"]), kind)
	}
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
	// The start time as the gateway records it on this platform.
	lockStart, err := openclaw.DefaultProcFS.LockStartTime(g.pid)
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
		if lf.Lock.PID != self.PID || lf.Lock.StartTime != lockStart {
			t.Errorf("lock %s names (%d, %d), the gateway is (%d, %d)", lf.Path, lf.Lock.PID, lf.Lock.StartTime, self.PID, lockStart)
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

	// The WebSocket RPC: frames, refusals, and the client's probe.
	checkRPC(t, g, shapes)
	checkChannelControl(t, g, shapes)

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

// conformanceToken is the gateway token both sides are started with.
const conformanceToken = "conformance-token"

// checkRPC holds the WebSocket RPC against the protocol clawwatch speaks:
// the frames' key sets and types (challenge, hello-ok, health, a refused
// token, the close that follows), then internal/openclaw's probe.
func checkRPC(t *testing.T, g *gateway, shapes map[string]string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() *websocket.Conn {
		c, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/", g.port), nil)
		if err != nil {
			t.Fatalf("WebSocket upgrade: %v", err)
		}
		c.SetReadLimit(openclaw.RPCReadLimit)
		return c
	}
	read := func(c *websocket.Conn) map[string]any {
		t.Helper()
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("read frame: %v", err)
			}
			var f map[string]any
			if err := json.Unmarshal(data, &f); err != nil {
				t.Fatalf("frame %.200s: %v", data, err)
			}
			if f["type"] == "event" && f["event"] != "connect.challenge" {
				continue // broadcasts (tick, health) come when they come
			}
			return f
		}
	}
	send := func(c *websocket.Conn, v any) {
		t.Helper()
		data, _ := json.Marshal(v)
		if err := c.Write(ctx, websocket.MessageText, data); err != nil {
			t.Fatal(err)
		}
	}
	connect := func(token string) map[string]any {
		return map[string]any{"type": "req", "id": "c1", "method": "connect", "params": map[string]any{
			"minProtocol": openclaw.RPCProtocolVersion, "maxProtocol": openclaw.RPCProtocolVersion,
			"client": map[string]any{"id": "openclaw-probe", "version": "conformance", "platform": "linux", "mode": "probe"},
			"role":   "operator", "scopes": []string{openclaw.RPCScope}, "auth": map[string]any{"token": token},
		}}
	}

	c := dial()
	defer c.CloseNow()
	shapes["rpc connect.challenge"] = shapeOf(t, read(c))
	send(c, connect(conformanceToken))
	hello := read(c)
	shapes["rpc hello-ok"] = shapeOf(t, hello)
	if auth := dig(hello, "payload", "auth"); fmt.Sprint(auth["scopes"]) != "[]" || auth["role"] != "operator" {
		t.Errorf("hello-ok auth = %v, want role operator and no scope (a token client without device identity)", auth)
	}
	send(c, map[string]any{"type": "req", "id": "h1", "method": "health", "params": map[string]any{}})
	health := read(c)
	shapes["rpc health"] = shapeOf(t, health)
	if agents, _ := dig(health, "payload")["agents"].([]any); len(agents) > 0 {
		shapes["rpc health agents[0]"] = shapeOf(t, agents[0])
	}
	// A method that needs a scope the token client was not granted.
	send(c, map[string]any{"type": "req", "id": "s1", "method": "status", "params": map[string]any{}})
	shapes["rpc status refused"] = shapeOf(t, read(c))
	c.Close(websocket.StatusNormalClosure, "")

	// A wrong token: the answer, then the close.
	c = dial()
	defer c.CloseNow()
	read(c)
	send(c, connect("wrong-token"))
	refused := read(c)
	shapes["rpc connect refused"] = shapeOf(t, refused)
	_, _, err := c.Read(ctx)
	shapes["rpc close after refusal"] = fmt.Sprint(websocket.CloseStatus(err))

	if g.name == "sim" {
		checkSimChannels(t, dig(health, "payload"))
	}

	// internal/openclaw's probe, as the exporter and the remediator run it.
	snap, tm, err := openclaw.ProbeHealth(ctx, fmt.Sprintf("127.0.0.1:%d", g.port), conformanceToken)
	if err != nil {
		t.Fatalf("ProbeHealth: %v", err)
	}
	if snap.ProtocolVersion != openclaw.RPCProtocolVersion || snap.ServerVersion != openclawVersion || snap.PluginsLoaded == 0 ||
		snap.Agents == 0 || !snap.ModelRuntimeReported || !snap.EventLoopReported || snap.ConfigHotReloadStatus != "active" || tm.Call <= 0 {
		t.Errorf("ProbeHealth = %+v %+v", snap, tm)
	}
	_, _, err = openclaw.ProbeHealth(ctx, fmt.Sprintf("127.0.0.1:%d", g.port), "wrong-token")
	var re *openclaw.RPCError
	if !errors.As(err, &re) || re.Reason != openclaw.RPCReasonAuth {
		t.Errorf("ProbeHealth with a wrong token: %v, want reason auth", err)
	}
}

// dig walks nested objects by key; a missing level is an empty object.
func dig(v map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		v, _ = v[k].(map[string]any)
	}
	return v
}

func shapeOf(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return shape(t, data)
}

// documentedAccountKeys are the keys of a channel account snapshot
// (ChannelAccountSnapshot in the package's dist/*.d.ts, plus authAgeMs of
// ChannelAccountHealthSummary): the real gateway here runs no channel, so
// the simulator's entries are held against the documented type instead.
var documentedAccountKeys = strings.Fields(`accountId name enabled configured statusState linked running connected
	restartPending reconnectAttempts lastConnectedAt lastDisconnect lastMessageAt lastEventAt lastTransportActivityAt
	stateReason lastError healthState lifecycle ingressUnavailable terminalDisconnect lastStartAt lastStopAt lastInboundAt
	lastOutboundAt busy activeRuns lastRunActivityAt activeRunStartedAt mode dmPolicy allowFrom tokenSource identity
	probe lastProbeAt audit application bot profile authAgeMs`)

func checkSimChannels(t *testing.T, health map[string]any) {
	channels := dig(health, "channels")
	if len(channels) == 0 {
		t.Errorf("the simulator's health has no channel")
	}
	for id := range channels {
		entry := dig(channels, id)
		accounts := dig(entry, "accounts")
		if len(accounts) == 0 {
			t.Errorf("channel %s has no accounts", id)
		}
		check := func(where string, acc map[string]any) {
			for k := range acc {
				if !slices.Contains(documentedAccountKeys, k) {
					t.Errorf("%s: key %q is not in the documented channel account snapshot", where, k)
				}
			}
		}
		top := maps.Clone(entry)
		delete(top, "accounts")
		check("channels."+id, top)
		for aid := range accounts {
			check("channels."+id+".accounts."+aid, dig(accounts, aid))
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

// checkSIGTERMExit: after SIGTERM the gateway exits 0 and removes its
// locks.
func checkSIGTERMExit(t *testing.T, g *gateway) {
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
// ratios, while it has no sample for them yet); records are rendered as
// "record" whatever their keys.
var (
	nullable = map[string]bool{"degradedSinceMs": true}
	optional = map[string]bool{"workerCoreRatio": true, "otherThreadsCoreRatio": true}
	// records are objects keyed by ids (the health payload's channels and
	// channel labels): one side's ids are not the other's, only the type is
	// compared. hello-ok's snapshot.health is the gateway's cached health,
	// {} until its first collection: only its type is compared (the health
	// RPC's payload is compared in full).
	records = map[string]bool{"channels": true, "channelLabels": true, "health": true}
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
				if _, ok := x[k].(map[string]any); ok && records[k] {
					typ = "record"
				}
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
