// Package httpserve serves the binaries' HTTP endpoints the way the
// Prometheus ecosystem does (exporter-toolkit's web configuration, systemd
// socket activation), with every timeout set and the number of connections
// bounded, so that idle or slow clients cannot exhaust descriptors and keep
// an authenticated webhook or a scrape out.
package httpserve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/coreos/go-systemd/v22/activation"
	"github.com/mdlayher/vsock"
	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/net/netutil"
)

// Limits are a server's timeouts and its bound on connections.
type Limits struct {
	// ReadHeaderTimeout bounds a new connection's wait for its request
	// headers: one that sends nothing is closed after it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request. For HTTP/1 it also
	// cancels a handler's context when it passes, so it must exceed the
	// longest response.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response, from the end of the request
	// headers.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long between
	// requests.
	IdleTimeout time.Duration
	// MaxConnections bounds the connections served at once; further ones
	// wait in the kernel's accept queue, costing this process no
	// descriptor, until a slot frees. 0: unbounded.
	MaxConnections int
}

// DefaultMaxConnections is Prometheus's own --web.max-connections default.
const DefaultMaxConnections = 512

type flagGroup interface {
	Flag(name, help string) *kingpin.FlagClause
}

// AddFlags adds --web.max-connections and --web.idle-timeout with the
// defaults of def; the other limits are def's.
func AddFlags(g flagGroup, def Limits) *Limits {
	l := def
	g.Flag("web.max-connections", "Maximum number of simultaneous connections; more wait in the accept queue until one closes. 0 means no limit.").
		Default(strconv.Itoa(def.MaxConnections)).IntVar(&l.MaxConnections)
	g.Flag("web.idle-timeout", "How long a keep-alive connection may stay idle between requests before it is closed.").
		Default(def.IdleTimeout.String()).DurationVar(&l.IdleTimeout)
	return &l
}

// Server returns a server for h with the limits' timeouts.
func (l Limits) Server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
	}
}

// ListenAndServe is exporter-toolkit's web.ListenAndServe (listen
// addresses, vsock:// addresses or systemd socket activation; TLS and
// authentication from the web configuration file) with every listener
// bounded to max connections.
func ListenAndServe(srv *http.Server, flags *web.FlagConfig, max int, logger *slog.Logger) error {
	listeners, err := Listen(flags)
	if err != nil {
		return err
	}
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	if max > 0 {
		for i, l := range listeners {
			listeners[i] = netutil.LimitListener(l, max)
		}
	}
	return web.ServeMultiple(listeners, srv, flags, logger)
}

// ServeUntilSignal runs ListenAndServe until SIGTERM or SIGINT, then shuts
// the server down gracefully (10 s at most) and returns nil; any other end is
// an error. Notify also un-ignores SIGINT for a process started in the
// background (make demo &), so that both signals stop it and the caller's
// deferred Closes run.
func ServeUntilSignal(srv *http.Server, flags *web.FlagConfig, max int, logger *slog.Logger) error {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(stop)
	errc := make(chan error, 1)
	go func() { errc <- ListenAndServe(srv, flags, max, logger) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case s := <-stop:
		logger.Info("shutting down", "signal", s.String())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		return nil
	}
}

// Listen opens the listeners the flags name, as web.ListenAndServe does.
func Listen(flags *web.FlagConfig) ([]net.Listener, error) {
	if flags.WebSystemdSocket != nil && *flags.WebSystemdSocket {
		listeners, err := activation.Listeners()
		if err != nil {
			return nil, err
		}
		if len(listeners) == 0 {
			return nil, errors.New("no socket activation file descriptors found")
		}
		return listeners, nil
	}
	if flags.WebListenAddresses == nil || len(*flags.WebListenAddresses) == 0 {
		return nil, web.ErrNoListeners
	}
	var listeners []net.Listener
	for _, address := range *flags.WebListenAddresses {
		l, err := listen(address)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return nil, err
		}
		listeners = append(listeners, l)
	}
	return listeners, nil
}

func listen(address string) (net.Listener, error) {
	rest, ok := strings.CutPrefix(address, "vsock://")
	if !ok {
		return net.Listen("tcp", address)
	}
	_, portStr, err := net.SplitHostPort(rest)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 32)
	if err != nil {
		return nil, err
	}
	return vsock.Listen(uint32(port), nil)
}
