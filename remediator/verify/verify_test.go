package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
