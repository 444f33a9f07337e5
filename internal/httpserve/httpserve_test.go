package httpserve

import (
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/clawwatch/clawwatch/internal/testing/simtest"
)

func TestFlagsAndServer(t *testing.T) {
	app := kingpin.New("t", "")
	def := Limits{ReadHeaderTimeout: time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 3 * time.Second, IdleTimeout: 4 * time.Second, MaxConnections: DefaultMaxConnections}
	l := AddFlags(app, def)
	web := webflag.AddFlags(app, ":0")
	port := simtest.FreePort(t)
	if _, err := app.Parse([]string{"--web.max-connections", "2", "--web.idle-timeout", "9s", "--web.listen-address", "127.0.0.1:" + strconv.Itoa(port)}); err != nil {
		t.Fatal(err)
	}
	if want := (Limits{time.Second, 2 * time.Second, 3 * time.Second, 9 * time.Second, 2}); *l != want {
		t.Fatalf("limits %+v, want %+v", *l, want)
	}
	srv := l.Server(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	if srv.ReadHeaderTimeout != time.Second || srv.ReadTimeout != 2*time.Second || srv.WriteTimeout != 3*time.Second || srv.IdleTimeout != 9*time.Second {
		t.Fatalf("server %+v", srv)
	}
	errc := make(chan error, 1)
	go func() { errc <- ListenAndServe(srv, web, l.MaxConnections, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() { srv.Close(); <-errc })
	simtest.Eventually(t, 10*time.Second, func() error {
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port))
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
}

func TestListenNeedsAnAddress(t *testing.T) {
	app := kingpin.New("t", "")
	web := webflag.AddFlags(app, "")
	app.Parse(nil)
	empty := []string{}
	web.WebListenAddresses = &empty
	if _, err := Listen(web); err == nil {
		t.Fatal("no address, no error")
	}
}
