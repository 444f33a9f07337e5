package actions

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// countingDriver stands in for the gateway's driver: it only counts.
type countingDriver struct{ stops, starts int }

func (d *countingDriver) Stop(context.Context, time.Duration) (string, error) {
	d.stops++
	return "stopped", nil
}

func (d *countingDriver) Start(context.Context) (string, error) {
	d.starts++
	return "started", nil
}

// restoreFixture is a target whose restore command runs script with the
// staging directory as $1, the archive as $2, and the state dir as $3.
type restoreFixture struct {
	tmp, state string
	drv        *countingDriver
	restore    StateRestore
}

func newRestoreFixture(t *testing.T, script string) *restoreFixture {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	state := filepath.Join(tmp, "home", ".openclaw")
	mustWrite(t, filepath.Join(state, "openclaw.json"), "current")
	backups := filepath.Join(tmp, "backups")
	archive := filepath.Join(backups, "2026-openclaw-backup.tar.gz")
	mustWrite(t, archive, "archive")
	tgt := &config.Target{Name: "main"}
	tgt.StateDir = state
	tgt.Backup = config.Backup{Dir: backups, Restore: []string{"sh", "-ec", script, "restore", "{target}", "{archive}", state}}
	drv := &countingDriver{}
	return &restoreFixture{tmp: tmp, state: state, drv: drv, restore: StateRestore{
		Target: tgt, Archive: archive, Restart: Restart{Driver: drv},
		Install: []string{"true"}, Now: time.Date(2026, 9, 6, 12, 0, 0, 0, time.UTC),
	}}
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// manifestScript writes DIR/arch/manifest.json naming archivePath as the
// state asset, after the layout commands.
func manifestScript(layout, archivePath string) string {
	return `mkdir -p "$1/arch"
` + layout + `
printf '{"assets":[{"kind":"state","sourcePath":"%s","archivePath":"%s"}]}' "$3" "` + archivePath + `" >"$1/arch/manifest.json"
`
}

// The attack of issue 26: the archive holds arch/lnk -> /outside and its
// manifest names arch/lnk/victim as the state. Nothing outside the state
// dir moves, the gateway is not stopped, and the action is refused.
func TestStateRestoreRefusesASymlinkedComponent(t *testing.T) {
	f := newRestoreFixture(t, manifestScript(`ln -s "$OUTSIDE" "$1/arch/lnk"`, "arch/lnk/victim"))
	outside := filepath.Join(f.tmp, "outside")
	victim := filepath.Join(outside, "victim")
	mustWrite(t, filepath.Join(victim, "secret"), "outside data")
	f.restore.Target.Driver.Spec = &driver.CommandSpec{Shared: driver.Shared{Kind: "command", Env: []string{"OUTSIDE=" + outside}}}

	log, err := f.restore.Run(t.Context())
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "arch/lnk") || !strings.Contains(err.Error(), "arch/lnk is a symlink, not a directory") {
		t.Fatalf("err = %v, want refused naming arch/lnk and symlinks; log:\n%s", err, log)
	}
	if got := mustRead(t, filepath.Join(victim, "secret")); got != "outside data" {
		t.Errorf("outside file now %q", got)
	}
	if got := mustRead(t, filepath.Join(f.state, "openclaw.json")); got != "current" {
		t.Errorf("state now %q", got)
	}
	if _, err := os.Lstat(f.state + ".before-rollback-20260906T120000Z"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the state was moved aside: %v", err)
	}
	if f.drv.stops != 0 || f.drv.starts != 0 {
		t.Errorf("gateway stopped %d, started %d times; want untouched", f.drv.stops, f.drv.starts)
	}
}

// A restored state holding a FIFO is refused before the gateway stops.
func TestStateRestoreRefusesAFIFO(t *testing.T) {
	f := newRestoreFixture(t, manifestScript(`s="$1/arch/payload/posix$3"
mkdir -p "$s/workspace"
mkfifo "$s/workspace/pipe"`, "arch/payload/posix$3"))
	log, err := f.restore.Run(t.Context())
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "workspace/pipe is a named pipe") {
		t.Fatalf("err = %v, want refused naming workspace/pipe; log:\n%s", err, log)
	}
	if got := mustRead(t, filepath.Join(f.state, "openclaw.json")); got != "current" || f.drv.stops != 0 {
		t.Errorf("state %q, gateway stopped %d times", got, f.drv.stops)
	}
}

// The real layout restores: the state is replaced, the one it replaced is
// kept aside, and a symlink the state held is restored as a link.
func TestStateRestoreRealLayout(t *testing.T) {
	f := newRestoreFixture(t, manifestScript(`s="$1/arch/payload/posix$3"
mkdir -p "$s/workspace"
echo restored >"$s/openclaw.json"
ln -s workspace "$s/ws-link"`, "arch/payload/posix$3"))
	log, err := f.restore.Run(t.Context())
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if got := mustRead(t, filepath.Join(f.state, "openclaw.json")); got != "restored\n" {
		t.Errorf("state holds %q", got)
	}
	if got := mustRead(t, filepath.Join(f.state+".before-rollback-20260906T120000Z", "openclaw.json")); got != "current" {
		t.Errorf("kept aside: %q", got)
	}
	if fi, err := os.Lstat(filepath.Join(f.state, "ws-link")); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("ws-link: %v %v", fi, err)
	}
	if f.drv.stops != 2 || f.drv.starts != 1 {
		t.Errorf("stops %d starts %d", f.drv.stops, f.drv.starts)
	}
}

// stagingWith lays out the real restored layout for state in a new
// staging dir and returns it and the restored state's path.
func stagingWith(t *testing.T, state string) (string, string) {
	t.Helper()
	s := t.TempDir()
	restored := filepath.Join(s, "arch", "payload", "posix", state)
	mustWrite(t, filepath.Join(restored, "workspace", "AGENTS.md"), "x")
	mustWrite(t, filepath.Join(s, "arch", "manifest.json"),
		`{"assets":[{"kind":"state","sourcePath":"`+state+`","archivePath":"arch/payload/posix`+state+`"}]}`)
	return s, restored
}

func TestRestoredStateRefusesSpecialFiles(t *testing.T) {
	state := "/home/u/.openclaw"
	for name, mk := range map[string]func(string) error{
		"named pipe": func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"socket": func(p string) error {
			// Bound under a short name (sun_path holds 108 bytes), then moved.
			short, err := os.MkdirTemp("", "sock")
			if err != nil {
				return err
			}
			defer os.RemoveAll(short)
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(short, "s"), Net: "unix"})
			if err != nil {
				return err
			}
			l.SetUnlinkOnClose(false)
			l.Close()
			return os.Rename(filepath.Join(short, "s"), p)
		},
		"character device": func(p string) error {
			if os.Geteuid() != 0 {
				t.Log("not root: no device node")
				return syscall.Mkfifo(p, 0o600) // still refused, as a pipe
			}
			return syscall.Mknod(p, syscall.S_IFCHR|0o600, 1<<8|3) // /dev/null's numbers
		},
		"setuid": func(p string) error {
			if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
				return err
			}
			return os.Chmod(p, 0o755|os.ModeSetuid)
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, restored := stagingWith(t, state)
			if err := mk(filepath.Join(restored, "workspace", "entry")); err != nil {
				t.Fatal(err)
			}
			want := name
			if os.Geteuid() != 0 && name == "character device" {
				want = "named pipe"
			}
			_, err := restoredState(s, state)
			if err == nil || !strings.Contains(err.Error(), "workspace/entry") || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want one naming workspace/entry as %s", err, want)
			}
		})
	}
}

func TestRestoredStateRefusesLinksOnEveryComponent(t *testing.T) {
	state := "/home/u/.openclaw"
	elsewhere := t.TempDir()
	if err := os.MkdirAll(filepath.Join(elsewhere, "posix", state), 0o700); err != nil {
		t.Fatal(err)
	}
	// to is the link's target; "" moves the archive root elsewhere and
	// links to it. Links inside staging are refused as well: os.Root would
	// follow them.
	for name, c := range map[string]struct {
		link, to, want string
	}{
		"archive root":            {"arch", "", "want one manifest.json, found 0"},
		"link inside staging":     {"arch/payload", "../other", "arch/payload is a symlink, not a directory"},
		"link to outside":         {"arch/payload", elsewhere, "arch/payload is a symlink, not a directory"},
		"state dir itself":        {"arch/payload/posix/home/u/.openclaw", "../../../../../other/posix/home/u/.openclaw", "arch/payload/posix/home/u/.openclaw is a symlink, not a directory"},
		"middle of the state dir": {"arch/payload/posix/home", filepath.Join(elsewhere, "posix", "home"), "arch/payload/posix/home is a symlink, not a directory"},
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := stagingWith(t, state)
			if err := os.MkdirAll(filepath.Join(s, "other", "posix", state), 0o700); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(s, c.link)
			to := c.to
			if to == "" { // the whole archive root is a link to a copy elsewhere
				to = filepath.Join(elsewhere, "arch")
				if err := os.Rename(p, to); err != nil {
					t.Fatal(err)
				}
			} else if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(to, p); err != nil {
				t.Fatal(err)
			}
			if _, err := restoredState(s, state); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one with %q", err, c.want)
			}
		})
	}
}

func TestRestoredStateRefusesAManifestThatIsNotAFile(t *testing.T) {
	state := "/home/u/.openclaw"
	s, _ := stagingWith(t, state)
	m := filepath.Join(s, "arch", "manifest.json")
	real := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.Rename(m, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, m); err != nil {
		t.Fatal(err)
	}
	if _, err := restoredState(s, state); err == nil || !strings.Contains(err.Error(), "is a symlink, not a regular file") {
		t.Fatalf("symlinked manifest: %v", err)
	}
	if err := os.Remove(m); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(m, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := restoredState(s, state); err == nil || !strings.Contains(err.Error(), "is a named pipe, not a regular file") {
		t.Fatalf("FIFO manifest: %v", err)
	}
}

// A directory swapped for a link between the check and the move is moved
// back, and nothing takes the state's place.
func TestRestoredMoveRefusesASwap(t *testing.T) {
	state := "/home/u/.openclaw"
	s, restored := stagingWith(t, state)
	r, err := restoredState(s, state)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	outside := t.TempDir()
	if err := os.Rename(restored, restored+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, restored); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), ".openclaw")
	if err := r.moveTo(dst); !errors.Is(err, errChanged) {
		t.Fatalf("moveTo: %v, want errChanged", err)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists after a refused move: %v", dst, err)
	}
	if fi, err := os.Lstat(restored); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was not put back: %v %v", fi, err)
	}
}
