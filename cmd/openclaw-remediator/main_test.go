package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/remtest"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

const token = "s3cret-remediator-token"

// proc is a remediator child process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	out  *simtest.Buffer
	done chan struct{}
}

func startRemediator(t *testing.T, cfg, tokenFile string, port int, extra ...string) *proc {
	t.Helper()
	p := &proc{url: "http://127.0.0.1:" + strconv.Itoa(port), out: &simtest.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(testbin.Command(t, "openclaw-remediator"), append([]string{"--config.file", cfg,
		"--web.listen-address", "127.0.0.1:" + strconv.Itoa(port), "--web.bearer-token-file", tokenFile, "--log.level", "debug"}, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.done })
	simtest.Eventually(t, 30*time.Second, func() error {
		select {
		case <-p.done:
			t.Fatalf("remediator exited:\n%s", p.out)
		default:
		}
		resp, err := http.Get(p.url + "/-/healthy")
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	return p
}

func (p *proc) do(t *testing.T, method, path string, body []byte) (int, []byte) {
	t.Helper()
	return p.doAs(t, token, method, path, body)
}

// doAs sends a request with bearer token tok ("" sends none).
func (p *proc) doAs(t *testing.T, tok, method, path string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, p.url+path, bytes.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (p *proc) incident(t *testing.T, id string) *journal.Incident {
	t.Helper()
	code, b := p.do(t, http.MethodGet, "/api/v1/incidents/"+id, nil)
	if code != http.StatusOK {
		return nil
	}
	var inc journal.Incident
	if err := json.Unmarshal(b, &inc); err != nil {
		t.Fatal(err)
	}
	return &inc
}

func setup(t *testing.T) (dir, cfg, tokenFile, pidFile string) {
	dir = t.TempDir()
	tokenFile = filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	pidFile = filepath.Join(dir, "exec.pids")
	cfg = filepath.Join(dir, "remediator.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
journal: {path: %s}
policies:
  - name: slow_exec
    matchers: ['alertname="SlowExec"']
    action: exec
    exec: [/bin/sh, -c, 'echo $$ >> %s; exec sleep 300']
  - name: flood
    matchers: ['alertname="Flood"']
    action: cleanup_locks
    dry_run: true
  - name: rollback_needs_approval
    matchers: ['remediation="rollback"']
    approval: true
targets:
  - name: default
    url: http://127.0.0.1:%d
    state_dir: %s
    driver: {kind: process, start: [/bin/true]}
`, filepath.Join(dir, "journal.db"), pidFile, simtest.FreePort(t), filepath.Join(dir, "state"))), 0o600)
	return dir, cfg, tokenFile, pidFile
}

// A kill -9 while an action runs and webhooks arrive loses no acknowledged
// incident; the running action is marked interrupted, not run again; the
// pending approval still waits.
func TestKill9LosesNothing(t *testing.T) {
	_, cfg, tokenFile, pidFile := setup(t)
	port := simtest.FreePort(t)
	a := startRemediator(t, cfg, tokenFile, port)

	rollbackID := journal.ID("rb00000000000001", remtest.HungStartsAt)
	if code, b := a.do(t, http.MethodPost, "/api/v1/alerts", remtest.Alert(t, "OpenClawReasoningDegradedAfterUpgrade", "rb00000000000001", "rollback")); code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	execID := journal.ID("ex00000000000001", remtest.HungStartsAt)
	a.do(t, http.MethodPost, "/api/v1/alerts", remtest.Alert(t, "SlowExec", "ex00000000000001", "none"))
	var execPID int
	simtest.Eventually(t, 20*time.Second, func() error {
		inc := a.incident(t, execID)
		b, _ := os.ReadFile(pidFile)
		if inc == nil || inc.State != journal.StateRunning || len(b) == 0 {
			return fmt.Errorf("exec not running yet: %+v", inc)
		}
		execPID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return nil
	})
	t.Cleanup(func() { syscall.Kill(execPID, syscall.SIGKILL) })
	if inc := a.incident(t, rollbackID); inc == nil || inc.State != journal.StatePending {
		t.Fatalf("rollback: %+v", inc)
	}

	// Senders post new incidents; the remediator dies under them.
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				fp := fmt.Sprintf("f%02d%013d", s, i)
				code, _ := a.do(t, http.MethodPost, "/api/v1/alerts", remtest.Alert(t, "Flood", fp, "none"))
				if code != http.StatusOK {
					return // dead: nothing more is acknowledged
				}
				mu.Lock()
				acked = append(acked, journal.ID(fp, remtest.HungStartsAt))
				mu.Unlock()
			}
		}()
	}
	simtest.Eventually(t, 30*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(acked) < 200 {
			return fmt.Errorf("%d acknowledged", len(acked))
		}
		return nil
	})
	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	close(stop)
	wg.Wait()

	b := startRemediator(t, cfg, tokenFile, port)
	mu.Lock()
	ids := append([]string(nil), acked...)
	mu.Unlock()
	for _, id := range ids {
		if b.incident(t, id) == nil {
			t.Fatalf("acknowledged incident %s lost (of %d)", id, len(ids))
		}
	}
	inc := b.incident(t, execID)
	if inc.State != journal.StateDone || len(inc.Actions) != 1 || inc.Actions[0].Result != journal.ResultInterrupted {
		t.Fatalf("exec incident after restart: %+v", inc)
	}
	if inc := b.incident(t, rollbackID); inc.State != journal.StatePending {
		t.Fatalf("rollback after restart: %+v", inc)
	}
	// Every acknowledged flood incident gets decided after the restart.
	simtest.Eventually(t, 60*time.Second, func() error {
		code, body := b.do(t, http.MethodGet, "/api/v1/incidents?state=received&limit=1", nil)
		if code != 200 || !bytes.Contains(body, []byte(`"incidents": []`)) {
			return fmt.Errorf("undecided incidents left: %d %.200s", code, body)
		}
		return nil
	})
	if pids, _ := os.ReadFile(pidFile); strings.Count(string(pids), "\n") != 1 {
		t.Fatalf("the interrupted exec ran again: pids %q", pids)
	}
	_, metrics := b.do(t, http.MethodGet, "/metrics", nil)
	for _, want := range []string{
		`openclaw_remediator_actions_total{action="exec",result="interrupted",target="default"} 1`,
		`openclaw_remediator_pending_approvals 1`,
	} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// The CLI sees and settles the pending incident through the API.
	cli := func(args ...string) (string, error) {
		out, err := exec.Command(testbin.Command(t, "openclaw-remediator"), args...).CombinedOutput()
		return string(out), err
	}
	out, err := cli("list", "--url", b.url, "--bearer-token-file", tokenFile, "--state", "pending")
	if err != nil || !strings.Contains(out, rollbackID) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	// More incidents than --limit: the listing says how to continue, and
	// the next page holds others.
	out, err = cli("list", "--url", b.url, "--bearer-token-file", tokenFile, "--limit", "100")
	_, cursor, ok := strings.Cut(out, "more incidents: --cursor=")
	if err != nil || !ok {
		t.Fatalf("list --limit 100 of more: %v\n%s", err, out)
	}
	cursor = strings.TrimSpace(cursor)
	next, err := cli("list", "--url", b.url, "--bearer-token-file", tokenFile, "--limit", "100", "--cursor", cursor)
	if err != nil || strings.Count(next, "\n") < 2 {
		t.Fatalf("list --cursor: %v\n%s", err, next)
	}
	for _, line := range strings.Split(next, "\n")[1:] {
		if id, _, _ := strings.Cut(line, " "); id != "" && !strings.HasPrefix(id, "more") && strings.Contains(out, id) {
			t.Fatalf("the second page repeats %s", id)
		}
	}
	if out, err := cli("reject", "--url", b.url, rollbackID); err == nil || !strings.Contains(out, "401") {
		t.Fatalf("reject without token: %v %s", err, out)
	}
	if out, err := cli("reject", "--url", b.url, "--bearer-token-file", tokenFile, rollbackID); err != nil {
		t.Fatalf("reject: %v %s", err, out)
	}
	if inc := b.incident(t, rollbackID); inc.Decision != journal.DecisionRejected {
		t.Fatalf("after reject: %+v", inc)
	}
}

func TestRefusesToStartWithoutAuth(t *testing.T) {
	_, cfg, _, _ := setup(t)
	bin := testbin.Command(t, "openclaw-remediator")
	out, err := exec.Command(bin, "--config.file", cfg, "--web.listen-address", "127.0.0.1:0").CombinedOutput()
	if simtest.ExitCode(err) != 1 || !strings.Contains(string(out), "no authentication configured") {
		t.Fatalf("exit %v:\n%s", err, out)
	}
}

func TestCheckConfig(t *testing.T) {
	_, cfg, _, _ := setup(t)
	bin := testbin.Command(t, "openclaw-remediator")
	if out, err := exec.Command(bin, "check-config", cfg).CombinedOutput(); err != nil || !strings.Contains(string(out), "config OK: 1 target(s)") {
		t.Fatalf("%v %s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("targets:\n  - name: x\n    drivr: {}\n"), 0o600)
	out, err := exec.Command(bin, "check-config", bad).CombinedOutput()
	if simtest.ExitCode(err) != 1 || !strings.Contains(string(out), "line 3: unknown key drivr") {
		t.Fatalf("%v %s", err, out)
	}
}
