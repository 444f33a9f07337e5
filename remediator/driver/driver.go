// Package driver stops and starts a gateway: as a process we signal and
// start ourselves, a systemd unit, a Docker container, through commands the
// operator configured, or a Kubernetes workload it rolls out again. Every
// driver runs argv directly, never a shell.
package driver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// Driver stops and starts one target.
type Driver interface {
	// Stop stops the gateway, gracefully for up to grace, then by force. A
	// gateway that is not running is stopped.
	Stop(ctx context.Context, grace time.Duration) (string, error)
	// Start starts it and returns without waiting for it to become healthy.
	Start(ctx context.Context) (string, error)
}

// Restarter is a driver that restarts in one step of its platform's own
// (a Kubernetes rollout restart) rather than by Stop and Start.
type Restarter interface {
	Restart(ctx context.Context) (string, error)
}

// Reverter is a driver that can name what runs now, when it is verified
// healthy, and later put that back (a Kubernetes rollout undo).
type Reverter interface {
	Revision(ctx context.Context) (string, error)
	Revert(ctx context.Context, revision string) (string, error)
}

// ErrUnmanaged means the driver does not know the gateway's process: a
// service manager, a container engine or a command starts it.
var ErrUnmanaged = errors.New("driver does not manage a process")

// Finder is a driver that knows which process is the gateway.
type Finder interface {
	Find() (openclaw.Process, error)
}

// Find returns d's gateway process, ErrUnmanaged when d does not know it.
func Find(d Driver) (openclaw.Process, error) {
	if f, ok := d.(Finder); ok {
		return f.Find()
	}
	return openclaw.Process{}, ErrUnmanaged
}

// PID is d's gateway pid, for version discovery through its install; 0
// when d cannot tell.
func PID(d Driver) int {
	p, err := Find(d)
	if err != nil {
		return 0
	}
	return p.PID
}

// maxOutput bounds what a command may print into the journal.
const maxOutput = 16 << 10

// Run runs argv to completion without a shell and returns its combined
// output, bounded.
func Run(ctx context.Context, argv []string, dir string, env []string) (string, error) {
	_, out, err := RunReport(ctx, argv, dir, env)
	return out, err
}

// maxReport bounds the standard output RunReport keeps for a JSON report.
const maxReport = 1 << 20

// RunReport runs argv like Run, and also returns its standard output
// alone, for the JSON report a command prints there: log lines on standard
// error must not split it, and it may be longer than the journal keeps.
func RunReport(ctx context.Context, argv []string, dir string, env []string) (report []byte, output string, err error) {
	if len(argv) == 0 {
		return nil, "", fmt.Errorf("empty argv")
	}
	cmd := exec.CommandContext(ctx, lookPath(argv[0], env), argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out := &boundedBuffer{}
	stdout := &boundedBuffer{limit: maxReport}
	cmd.Stdout, cmd.Stderr = io.MultiWriter(stdout, out), out
	cmd.WaitDelay = 5 * time.Second // a child keeping the pipes open must not hang us
	err = cmd.Run()
	s := strings.TrimSpace(out.String())
	if err != nil {
		err = fmt.Errorf("%s: %w", argv[0], err)
	}
	return stdout.bytes(), s, err
}

// lookPath finds a bare command name in the PATH that env sets, where it
// sets one: the operator's driver.env PATH is where the gateway's CLI is,
// not the remediator's own. Otherwise exec's lookup in our PATH applies.
func lookPath(name string, env []string) string {
	if strings.ContainsAny(name, pathSeparators) {
		return name
	}
	for i := len(env) - 1; i >= 0; i-- {
		path, ok := strings.CutPrefix(env[i], "PATH=")
		if !ok {
			continue
		}
		for _, d := range filepath.SplitList(path) {
			if d == "" {
				continue
			}
			if p, ok := executableIn(d, name); ok {
				return p
			}
		}
		break
	}
	return name
}

// boundedBuffer keeps the first limit (default maxOutput) bytes and counts
// the rest. Standard output and error may write at once.
type boundedBuffer struct {
	mu      sync.Mutex
	limit   int
	buf     bytes.Buffer
	dropped int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	limit := b.limit
	if limit == 0 {
		limit = maxOutput
	}
	room := limit - b.buf.Len()
	if room < len(p) {
		b.dropped += len(p) - max(room, 0)
		p = p[:max(room, 0)]
	}
	b.buf.Write(p)
	return n, nil
}

func (b *boundedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n…(%d more bytes)", b.buf.String(), b.dropped)
	}
	return b.buf.String()
}
