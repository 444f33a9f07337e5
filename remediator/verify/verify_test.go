package verify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

func TestUntil(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte(`{"ok":true,"status":"live"}`))
		case "/readyz":
			if n < 6 {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(`{"ready":false,"failing":["startup-sidecars"]}`))
				return
			}
			w.Write([]byte(`{"ready":true,"failing":[]}`))
		}
	}))
	defer srv.Close()
	p := Prober{Client: srv.Client(), URL: srv.URL}
	msg, err := Until(context.Background(), p, time.Minute, time.Millisecond)
	if err != nil || !strings.Contains(msg, "healthy after") {
		t.Fatalf("%q %v", msg, err)
	}
}

func TestUntilTimesOutOnAHungGateway(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	_, err := Until(context.Background(), Prober{Client: srv.Client(), URL: srv.URL}, 200*time.Millisecond, 10*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "not healthy within") {
		t.Fatalf("%v", err)
	}
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":false}`))
	}))
	defer srv2.Close()
	if err := (Prober{Client: srv2.Client(), URL: srv2.URL}).Once(context.Background()); err == nil {
		t.Fatal("ok:false accepted")
	}
}

// TestOnceWithAToken: with a token the gateway is healthy only when its RPC
// answers too. The simulator's rpc_hang keeps /healthz and /readyz fine
// while the RPC never answers: the hidden hang a restart must cure.
func TestOnceWithAToken(t *testing.T) {
	const token = "verify-token"
	s := simtest.Start(t, simtest.Options{Token: token})
	addr := "127.0.0.1:" + strconv.Itoa(s.Port)
	httpOnly := Prober{Client: http.DefaultClient, URL: s.URL}
	withRPC := Prober{Client: http.DefaultClient, URL: s.URL, RPCAddr: addr, Token: token}
	simtest.Eventually(t, 30*time.Second, func() error { return withRPC.Once(context.Background()) })
	if msg, err := Until(context.Background(), withRPC, 10*time.Second, 100*time.Millisecond); err != nil || !strings.Contains(msg, "the health RPC answering too") {
		t.Errorf("Until = %q, %v; want healthy with the RPC", msg, err)
	}

	wrong := withRPC
	wrong.Token = "not-the-token"
	if err := wrong.Once(context.Background()); !isRPC(err, openclaw.RPCReasonAuth) {
		t.Errorf("wrong token: %v, want an auth failure", err)
	}

	s.Fault(t, `{"kind":"rpc_hang"}`)
	if err := httpOnly.Once(context.Background()); err != nil {
		t.Fatalf("rpc_hang must leave HTTP healthy: %v", err)
	}
	err := withRPC.Once(context.Background())
	if !isRPC(err, openclaw.RPCReasonTimeout) || !strings.Contains(err.Error(), "/healthz and /readyz fine") {
		t.Errorf("rpc_hang: %v, want an RPC timeout after healthy HTTP", err)
	}
	if _, err := Until(context.Background(), withRPC, 4*time.Second, 100*time.Millisecond); err == nil {
		t.Error("a gateway whose RPC hangs was verified healthy")
	}
}

func isRPC(err error, reason string) bool {
	var re *openclaw.RPCError
	return errors.As(err, &re) && re.Reason == reason
}
