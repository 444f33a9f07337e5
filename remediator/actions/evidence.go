package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// Evidence is what Snapshot records before a restart destroys it.
type Evidence struct {
	Dir      string // diagnostics root
	Keep     int    // snapshots kept; older ones are deleted
	LogLines int

	Target     string
	IncidentID string
	URL        string
	Client     *http.Client
	Driver     driver.Driver // finds the gateway's process when it manages one
	Procs      openclaw.ProcFS
	LogDirs    []string
	LogProfile string

	// RPCAddr and Token: with a token the health RPC is recorded too.
	RPCAddr, Token string
}

// maxTailBytes bounds how much of the log end is read for the last lines.
const maxTailBytes = 256 << 10

// probeTimeout bounds each probe of the gateway, so that a hung one delays
// the restart by seconds only.
const probeTimeout = 3 * time.Second

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// Snapshot writes process status, FD count, /healthz, /readyz, the health
// RPC (with a token) and the last log lines into a new directory under Dir
// and prunes old snapshots. Each part that fails is noted in its file
// instead; only an unusable Dir fails.
func (e Evidence) Snapshot(ctx context.Context, now time.Time) (string, error) {
	if err := os.MkdirAll(e.Dir, 0o750); err != nil {
		return "", fmt.Errorf("diagnostics directory: %w", err)
	}
	name := now.UTC().Format("20060102T150405.000Z") + "-" + unsafeName.ReplaceAllString(e.Target, "_") + "-" + unsafeName.ReplaceAllString(e.IncidentID, "_")
	dir := filepath.Join(e.Dir, name)
	if err := os.Mkdir(dir, 0o750); err != nil {
		return "", fmt.Errorf("snapshot directory: %w", err)
	}
	write := func(file, content string) { _ = os.WriteFile(filepath.Join(dir, file), []byte(content), 0o640) }
	write("process.txt", e.process())
	for _, ep := range openclaw.Endpoints {
		write(ep+".txt", e.probe(ctx, ep))
	}
	write("health-rpc.txt", e.healthRPC(ctx))
	write("log-tail.txt", e.logTail())
	if err := prune(e.Dir, e.Keep); err != nil {
		return dir, err
	}
	return dir, nil
}

func (e Evidence) process() string {
	proc, err := driver.Find(e.Driver)
	if errors.Is(err, driver.ErrUnmanaged) {
		return "driver does not manage a process\n"
	}
	if err != nil {
		return fmt.Sprintf("process: %v\n", err)
	}
	var b strings.Builder
	procs := e.Procs
	fmt.Fprintf(&b, "pid: %d\nstart_time_ticks: %d\n", proc.PID, proc.StartTime)
	if st, err := procs.Stat(proc.PID); err == nil {
		fmt.Fprintf(&b, "comm: %s\nstate: %c\nppid: %d\n", st.Comm, st.State, st.PPID)
	}
	if argv, err := procs.Cmdline(proc.PID); err == nil {
		fmt.Fprintf(&b, "cmdline: %q\n", argv)
	}
	if n, err := procs.OpenFDs(proc.PID); err == nil {
		fmt.Fprintf(&b, "open_fds: %d\n", n)
	} else {
		fmt.Fprintf(&b, "open_fds: %v\n", err)
	}
	if rss, err := procs.RSSBytes(proc.PID); err == nil {
		fmt.Fprintf(&b, "rss_bytes: %d\n", rss)
	}
	if procs.Root == "" {
		return b.String() // no /proc here (macOS, Windows)
	}
	if data, err := os.ReadFile(filepath.Join(procs.Root, fmt.Sprint(proc.PID), "status")); err == nil {
		b.WriteString("\n/proc/PID/status:\n")
		b.Write(data)
	}
	return b.String()
}

// probe records what endpoint answered, whatever its status, or why nothing
// came back.
func (e Evidence) probe(ctx context.Context, endpoint string) string {
	a, err := openclaw.HTTPProbe{Client: e.Client, URL: e.URL, Timeout: probeTimeout}.Fetch(ctx, endpoint)
	if err != nil {
		return fmt.Sprintf("GET %v\n", err)
	}
	return fmt.Sprintf("GET /%s: %d\n%s\n", endpoint, a.Status, a.Body[:min(len(a.Body), openclaw.MaxProbeBody)])
}

// healthRPC records what the gateway's real request path answers: the
// health snapshot, or how the probe failed (a hang shows as a timeout here
// while /healthz answered).
func (e Evidence) healthRPC(ctx context.Context) string {
	if e.Token == "" {
		return "not probed: the target has no token_file\n"
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	start := time.Now()
	snap, tm, err := openclaw.ProbeHealth(ctx, e.RPCAddr, e.Token)
	if err != nil {
		return fmt.Sprintf("health RPC to %s failed after %s: %v\n", e.RPCAddr, time.Since(start).Round(time.Millisecond), err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "health RPC to %s: protocol %d, connect %s, handshake %s, call %s\n", e.RPCAddr, snap.ProtocolVersion,
		tm.Connect.Round(time.Microsecond), tm.Handshake.Round(time.Microsecond), tm.Call.Round(time.Microsecond))
	if json.Indent(&b, snap.Raw, "", "  ") != nil {
		b.Write(snap.Raw)
	}
	b.WriteByte('\n')
	return b.String()
}

// logTail records the last lines of the newest log. The remediator may run
// as root while others can write in the log directory, and the console
// serves evidence: the log is opened through the directory it was listed in,
// never through a symlink, and never a FIFO or device (OpenNewestLog).
func (e Evidence) logTail() string {
	lf, f, err := openclaw.OpenNewestLog(e.LogProfile, e.LogDirs...)
	if err != nil {
		return err.Error() + "\n"
	}
	defer f.Close()
	lines, err := TailLines(f, e.LogLines)
	if err != nil {
		return fmt.Sprintf("%s: %v\n", lf.Path, err)
	}
	return "# " + lf.Path + "\n" + lines
}

// TailLines returns the last n lines of the open file, reading at most its
// last 256 KiB.
func TailLines(f *os.File, n int) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	off := max(fi.Size()-maxTailBytes, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	buf = bytes.TrimRight(buf, "\n")
	lines := bytes.Split(buf, []byte("\n"))
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n"))) + "\n", nil
}

// prune keeps the newest keep snapshot directories (names start with the
// time, so they sort by age).
func prune(dir string, keep int) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	var errs []error
	for len(names) > keep {
		if err := os.RemoveAll(filepath.Join(dir, names[0])); err != nil {
			errs = append(errs, err)
		}
		names = names[1:]
	}
	return errors.Join(errs...)
}
