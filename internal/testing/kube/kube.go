// Package kube starts a real Kubernetes control plane for a test: etcd and
// kube-apiserver, built from the Go module proxy by `make kube` into
// $CLAWWATCH_KUBE_DIR, on free loopback ports, with an admin token. Nothing
// runs a container: a test gets the API server's validation, defaulting and
// server-side apply, and with Workloads the controllers that roll a
// Deployment out onto a kwok node, where pods become Ready without running.
package kube

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

// readyWithin bounds the control plane's start: a few seconds on an idle
// machine, much more on a loaded one.
const readyWithin = 3 * time.Minute

// Cluster is a running control plane.
type Cluster struct {
	URL    string // https://127.0.0.1:PORT of kube-apiserver
	Token  string // bearer token of a system:masters user
	CAFile string // the API server's self-signed serving certificate
	// Started is how long etcd and kube-apiserver took to answer /readyz.
	Started time.Duration

	work string // the control plane's files
}

// Config is a client configuration for the admin. Warnings of the server
// go to warn, if not nil.
func (c *Cluster) Config(warn rest.WarningHandler) *rest.Config {
	return &rest.Config{
		Host:            c.URL,
		BearerToken:     c.Token,
		TLSClientConfig: rest.TLSClientConfig{CAFile: c.CAFile},
		WarningHandler:  warn,
		QPS:             100,
		Burst:           200,
	}
}

// Dir is where `make kube` put the binaries ($CLAWWATCH_KUBE_DIR). Without
// it the test skips, except under CI=true, where it fails.
func Dir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CLAWWATCH_KUBE_DIR")
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CLAWWATCH_KUBE_DIR is not set: run the tests through `make test`, which runs `make kube`")
		}
		t.Skip("CLAWWATCH_KUBE_DIR is not set; `make test` runs `make kube` and then this test")
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s is not in %s (run `make kube`): %v", name, dir, err)
		}
	}
	return dir
}

// Start runs etcd and kube-apiserver until the end of the test and waits
// for /readyz. Both are stopped by their PIDs.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin := Dir(t)
	work := t.TempDir()
	begin := time.Now()

	etcdPort, peerPort, apiPort := freePort(t), freePort(t), freePort(t)
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdPort)
	run(t, "etcd", filepath.Join(bin, "etcd"),
		"--data-dir", filepath.Join(work, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--initial-advertise-peer-urls", "http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--initial-cluster", "default=http://127.0.0.1:"+strconv.Itoa(peerPort),
		"--log-level", "warn")

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	token := randomHex(t, 16)
	certs := filepath.Join(work, "certs")
	write(t, filepath.Join(work, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	write(t, filepath.Join(work, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
	write(t, filepath.Join(work, "tokens.csv"), []byte(token+",admin,admin,system:masters\n"))
	run(t, "kube-apiserver", filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiPort), "--cert-dir="+certs,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file="+filepath.Join(work, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(work, "sa.key"),
		"--token-auth-file="+filepath.Join(work, "tokens.csv"),
		"--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=10.96.0.0/24") // configuration only: no traffic

	c := &Cluster{URL: "https://127.0.0.1:" + strconv.Itoa(apiPort), Token: token,
		CAFile: filepath.Join(certs, "apiserver.crt"), work: work}
	// The serving certificate is written at start; until then, and until
	// /readyz says 200, poll.
	deadline := time.Now().Add(readyWithin)
	var last error
	for time.Now().Before(deadline) {
		if last = c.ready(); last == nil {
			c.Started = time.Since(begin)
			t.Logf("etcd and kube-apiserver ready in %s", c.Started.Round(time.Millisecond))
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("kube-apiserver not ready within %s: %v", readyWithin, last)
	return nil
}

func (c *Cluster) ready() error {
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return fmt.Errorf("%s: no certificate", c.CAFile)
	}
	client := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, c.URL+"/readyz", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}

// run starts a process for the rest of the test; its output is logged when
// the test fails.
func run(t testing.TB, name, path string, args ...string) {
	t.Helper()
	out := &buffer{}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s (pid %d) said:\n%s", name, cmd.Process.Pid, out.tail(8192))
		}
	})
}

// freePort is a port no other test of this machine is handed meanwhile.
func freePort(t testing.TB) int { return simtest.FreePort(t) }

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func write(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// buffer collects a process's output while it runs.
type buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *buffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.Bytes()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return string(s)
}
