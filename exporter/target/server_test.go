package target

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/openclaw/proctest"
)

// listen makes pid the owner of a LISTEN socket on port in the fake tree.
func listen(t *testing.T, tree *proctest.Tree, pid, port int, inode uint64) {
	t.Helper()
	tree.Listen(pid, port, inode)
}

func TestServerFoundByPortAndRetriedAtMostEvery30s(t *testing.T) {
	tree := proctest.New(t)
	tree.Write("net/tcp", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	s := NewServer(8080, "")
	s.Procs, s.now = openclaw.ProcFS{Root: tree.Root}, func() time.Time { return now }

	if _, err := s.Process(); !errors.Is(err, openclaw.ErrNotFound) {
		t.Fatalf("nothing listening: %v", err)
	}
	// llama-server starts; it is not looked for again before the retry.
	tree.Add(500, 1, "llama-server", 'S', 1000, "llama-server", "-m", "qwen.gguf")
	listen(t, tree, 500, 8080, 4242)
	now = now.Add(10 * time.Second)
	if _, err := s.Process(); !errors.Is(err, openclaw.ErrNotFound) {
		t.Fatalf("within the retry interval: %v, want the remembered miss", err)
	}
	now = now.Add(serverRetry)
	if p, err := s.Process(); err != nil || p != (openclaw.Process{PID: 500, StartTime: 1000}) {
		t.Fatalf("after the retry interval: %+v %v", p, err)
	}
	// Its model runners are children (as with Ollama).
	tree.Add(501, 500, "runner", 'S', 1001, "runner")
	tree.Add(502, 500, "runner", 'S', 1002, "runner")
	tree.Add(503, 501, "runner", 'S', 1003, "runner")
	tree.Add(600, 1, "other", 'S', 1004, "other")
	pids, err := s.PIDs()
	slices.Sort(pids)
	if err != nil || !slices.Equal(pids, []int{500, 501, 502, 503}) {
		t.Fatalf("PIDs = %v, %v; want the server and its descendants", pids, err)
	}
	// A restart under a new pid is found at once: a found process is
	// confirmed, a changed one looked up again.
	if err := os.RemoveAll(filepath.Join(tree.Root, "500")); err != nil {
		t.Fatal(err)
	}
	tree.Add(510, 1, "llama-server", 'S', 2000, "llama-server")
	listen(t, tree, 510, 8080, 4343)
	if p, err := s.Process(); err != nil || p.PID != 510 {
		t.Fatalf("after a restart: %+v %v", p, err)
	}
}

func TestServerFromPIDFile(t *testing.T) {
	tree := proctest.New(t)
	tree.Add(700, 1, "vllm", 'S', 3000, "python3", "-m", "vllm")
	dir := t.TempDir()
	file := filepath.Join(dir, "model.pid")
	cases := []struct {
		content string
		want    int
		err     string
	}{
		{"700\n", 700, ""},
		{"seven", 0, "is not a pid"},
		{"-3", 0, "is not a pid"},
		{"", 0, "is not a pid"},
	}
	for _, c := range cases {
		if err := os.WriteFile(file, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		s := NewServer(0, file)
		s.Procs = openclaw.ProcFS{Root: tree.Root}
		p, err := s.Process()
		if p.PID != c.want || (c.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("pid file %q: %+v, %v; want pid %d, error %q", c.content, p, err, c.want, c.err)
		}
	}
	s := NewServer(0, filepath.Join(dir, "missing.pid"))
	if _, err := s.Process(); err == nil || !strings.Contains(err.Error(), "missing.pid") {
		t.Errorf("missing pid file: %v, want an error naming it", err)
	}
	if _, err := NewServer(0, "").Process(); !errors.Is(err, openclaw.ErrNotFound) {
		t.Errorf("neither port nor pid file: %v", err)
	}
}

// TestPIDFileIsNeverAFIFOOrASymlink: the pid file may sit where others can
// write. A FIFO in its place is refused on the descriptor (a plain read
// waited for a writer, and the scrape with it), a symlink is not followed.
func TestPIDFileIsNeverAFIFOOrASymlink(t *testing.T) {
	dir := t.TempDir()
	fifo, link := filepath.Join(dir, "fifo.pid"), filepath.Join(dir, "link.pid")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "real"), []byte("700\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link} {
		_, err := NewServer(0, path).Process()
		if !errors.Is(err, openclaw.ErrNotRegular) || !strings.Contains(err.Error(), path) {
			t.Errorf("pid file %s: %v, want ErrNotRegular naming it", path, err)
		}
	}
}
