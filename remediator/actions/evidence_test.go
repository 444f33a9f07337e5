package actions

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// TestSnapshotRecordsTheHealthRPC: the evidence before a restart holds the
// health RPC's answer, or how it failed while /healthz still answered (the
// hidden hang), or says that the target has no token.
func TestSnapshotRecordsTheHealthRPC(t *testing.T) {
	const token = "evidence-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	ev := Evidence{
		Dir: t.TempDir(), Keep: 10, LogLines: 5, Target: "sim", URL: s.URL, Client: http.DefaultClient,
		LogDirs: []string{s.LogDir}, RPCAddr: "127.0.0.1:" + strconv.Itoa(s.Port), Token: token,
	}
	read := func(dir, name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	snapshot := func(id string) string {
		t.Helper()
		ev.IncidentID = id
		dir, err := ev.Snapshot(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}

	var dir string
	simtest.Eventually(t, 30*time.Second, func() error {
		dir = snapshot("good")
		if rpc := read(dir, "health-rpc.txt"); !strings.Contains(rpc, "protocol 4") || !strings.Contains(rpc, `"channels"`) {
			return fmt.Errorf("health-rpc.txt of a healthy gateway:\n%s", rpc)
		}
		return nil
	})

	s.Fault(t, `{"kind":"rpc_hang"}`)
	dir = snapshot("hang")
	if rpc := read(dir, "health-rpc.txt"); !strings.Contains(rpc, "failed") || !strings.Contains(rpc, "timeout") {
		t.Errorf("health-rpc.txt during rpc_hang:\n%s", rpc)
	}
	if h := read(dir, "healthz.txt"); !strings.Contains(h, "GET /healthz: 200") {
		t.Errorf("healthz.txt during rpc_hang:\n%s", h)
	}

	ev.Token = ""
	if rpc := read(snapshot("no-token"), "health-rpc.txt"); !strings.Contains(rpc, "no token_file") {
		t.Errorf("health-rpc.txt without a token:\n%s", rpc)
	}
}
