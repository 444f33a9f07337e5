package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// OpenClawSpec is the openclaw kind's section: OpenClaw's own service
// management (`openclaw gateway start|stop|restart`), which drives the
// systemd user unit, the macOS LaunchAgent or the Windows Scheduled Task
// the gateway was installed with. The way to heal a gateway on a platform
// clawwatch has no driver of its own for.
type OpenClawSpec struct {
	Shared `yaml:",inline"`
	// Command is the openclaw CLI's argv, "gateway …" is appended:
	// default [openclaw] (from driver.env's PATH, else the remediator's).
	Command []string `yaml:"command,omitempty"`
	// Safe restarts with --safe: the gateway drains its active work first
	// (bounded by the gateway at 5 minutes). Default true.
	Safe *bool `yaml:"safe,omitempty"`
}

// supervisorModeExternal is the environment that tells OpenClaw another
// process manager owns the gateway: its service operations are then
// refused (docs/cli/gateway/restart-and-supervision.md).
const supervisorModeExternal = "OPENCLAW_SUPERVISOR_MODE=external"

// Validate defaults the command and checks it, and refuses an environment
// that would make OpenClaw refuse every operation of this driver.
func (s *OpenClawSpec) Validate(_, _ string) error {
	if len(s.Command) == 0 {
		s.Command = []string{"openclaw"}
	}
	if err := checkArgv(s.Kind, "command", s.Command); err != nil {
		return err
	}
	if slices.Contains(s.Env, supervisorModeExternal) {
		return fmt.Errorf("env: %s declares that something other than OpenClaw's own service owns the gateway, and then OpenClaw refuses the start, stop and restart this driver runs; use the process, systemd or command driver for such a gateway", supervisorModeExternal)
	}
	if s.Safe == nil {
		safe := true
		s.Safe = &safe
	}
	return nil
}

// New builds the driver.
func (s *OpenClawSpec) New(t Target) (Driver, error) {
	return &OpenClaw{Command: s.Command, Dir: s.Dir, Env: s.Env, Safe: s.Safe == nil || *s.Safe, Port: t.Port}, nil
}

// OpenClaw runs the gateway's own CLI. Every call is argv with --json;
// its report's ok, not only the exit status, is the verdict.
type OpenClaw struct {
	Command []string
	Dir     string
	Env     []string
	Safe    bool
	// Port is the gateway's port on this host, where a restart is waited
	// for: the CLI manages the local service only.
	Port int
	// Every is how often the restart is checked for; 0 is 500ms.
	Every time.Duration
}

// safeRestartBudget is how long a safe restart may take: the gateway
// drains for at most 5 minutes (then forces), plus its start.
const safeRestartBudget = 7 * time.Minute

// Stop runs `openclaw gateway stop --force`: --force is what the CLI asks
// of a caller that is not an interactive shell. The service manager's own
// stop timeout decides when the gateway is killed.
func (o *OpenClaw) Stop(ctx context.Context, grace time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, grace+30*time.Second)
	defer cancel()
	return o.run(ctx, "stop", "--force")
}

// Start runs `openclaw gateway start`.
func (o *OpenClaw) Start(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return o.run(ctx, "start")
}

// Restart runs `openclaw gateway restart`, with --safe unless configured
// otherwise: the gateway drains in-flight work before it goes. The CLI
// returns once the restart is scheduled ("scheduled", or "deferred" while
// agent turns run), not done, so the restart is waited for: /readyz on the
// gateway's port answering with an uptime younger than the request. A
// restart the CLI could not ask for, or that does not happen within the
// budget, falls back to the service's stop and start. The output says which
// path was taken and how long the drain and restart took.
func (o *OpenClaw) Restart(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, safeRestartBudget)
	defer cancel()
	flags := []string{}
	if o.Safe {
		flags = append(flags, "--safe")
	}
	asked := time.Now()
	out, err := o.run(ctx, "restart", flags...)
	log := []string{out}
	if err == nil && o.Port > 0 {
		var took time.Duration
		took, err = waitRestarted(ctx, o.Port, asked, o.Every)
		if err == nil {
			log = append(log, fmt.Sprintf("path: openclaw gateway restart %s: drained and restarted, ready %s after the request", strings.Join(flags, " "), took.Round(time.Millisecond)))
			return strings.Join(log, "\n"), nil
		}
	}
	if err == nil {
		return strings.Join(append(log, "path: openclaw gateway restart "+strings.Join(flags, " ")), "\n"), nil
	}
	log = append(log, fmt.Sprintf("path: stop and start (the restart failed: %v)", err))
	// The fallback gets a budget of its own: the restart may have used
	// all of ctx's.
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer fcancel()
	stop, serr := o.Stop(fctx, 30*time.Second)
	log = append(log, "stop: "+stop)
	if serr != nil {
		return strings.Join(log, "\n"), fmt.Errorf("restart: %w; stop: %w", err, serr)
	}
	start, serr := o.Start(fctx)
	log = append(log, "start: "+start)
	if serr != nil {
		return strings.Join(log, "\n"), fmt.Errorf("restart: %w; start: %w", err, serr)
	}
	return strings.Join(log, "\n"), nil
}

// waitRestarted polls the gateway's /readyz on port until it is ready
// with an uptime younger than asked (a new boot, in process or not), and
// returns how long after asked that was.
func waitRestarted(ctx context.Context, port int, asked time.Time, every time.Duration) (time.Duration, error) {
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/readyz"
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := "no answer yet"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err != nil {
			last = err.Error()
		} else {
			var rz openclaw.Readyz
			derr := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&rz)
			resp.Body.Close()
			switch {
			case derr != nil || rz.UptimeMs == nil:
				last = fmt.Sprintf("/readyz %d without an uptime", resp.StatusCode)
			case time.Duration(*rz.UptimeMs)*time.Millisecond > time.Since(asked):
				last = "not restarted yet (draining: still up since before the request)"
			case resp.StatusCode != http.StatusOK || !rz.Ready:
				last = fmt.Sprintf("restarted, not ready yet (failing %v)", rz.Failing)
			default:
				return time.Since(asked), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("the gateway did not restart in time: %s", last)
		case <-tick.C:
		}
	}
}

func (o *OpenClaw) run(ctx context.Context, verb string, flags ...string) (string, error) {
	argv := append(slices.Clone(o.Command), "gateway", verb)
	argv = append(append(argv, flags...), "--json")
	start := time.Now()
	report, out, err := RunReport(ctx, argv, o.Dir, o.Env)
	took := time.Since(start).Round(time.Millisecond)
	rep, perr := parseOpenClawReport(report)
	head := fmt.Sprintf("openclaw gateway %s (%s)", strings.Join(append([]string{verb}, flags...), " "), took)
	switch {
	case perr == nil && !rep.OK:
		return head + ": " + out, fmt.Errorf("openclaw gateway %s: %s", verb, rep.message())
	case err != nil:
		return head + ": " + out, err
	case perr != nil:
		return head + ": " + out, fmt.Errorf("openclaw gateway %s: %w", verb, perr)
	}
	return head + ": " + out, nil
}

// openClawReport is the part of a --json report the driver reads: ok, and
// error as a string or {message}.
type openClawReport struct {
	OK    bool            `json:"ok"`
	Error json.RawMessage `json:"error"`
}

func (r *openClawReport) message() string {
	var s string
	if json.Unmarshal(r.Error, &s) == nil && s != "" {
		return s
	}
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(r.Error, &e) == nil && e.Message != "" {
		return e.Message
	}
	if len(r.Error) > 0 {
		return string(r.Error)
	}
	return "ok: false"
}

// parseOpenClawReport reads the JSON object on standard output; the CLI may
// print a banner line before it.
func parseOpenClawReport(stdout []byte) (*openClawReport, error) {
	i := bytes.IndexByte(stdout, '{')
	if i < 0 {
		return nil, errors.New("no JSON report on standard output")
	}
	var r openClawReport
	if err := json.NewDecoder(bytes.NewReader(stdout[i:])).Decode(&r); err != nil {
		return nil, fmt.Errorf("its JSON report: %w", err)
	}
	return &r, nil
}
