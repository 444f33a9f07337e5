package exporter

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/internal/reload"
)

// Reloader re-reads the configuration file on demand; a bad file leaves the
// running configuration in place.
type Reloader struct {
	*reload.Reloader
}

// NewReloader registers the reload metrics on reg. path "" means the
// built-in default configuration, which a reload keeps.
func NewReloader(path string, exp *Exporter, reg prometheus.Registerer, logger *slog.Logger) *Reloader {
	gauges := reload.NewGauges("openclaw_exporter")
	reg.MustRegister(gauges)
	return &Reloader{reload.New(path, func() error {
		cfg := config.Default()
		if path != "" {
			var err error
			if cfg, err = config.Load(path); err != nil {
				return err
			}
		}
		return exp.Apply(cfg)
	}, gauges.Record, logger)}
}

// Handler is POST /-/reload when the lifecycle API is enabled
// (--web.enable-lifecycle), else a 403 that says so, as Prometheus answers:
// whoever reaches the port must not make the exporter re-read its files.
func (r *Reloader) Handler(enabled bool) http.Handler {
	if enabled {
		return r
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Lifecycle API is not enabled (--web.enable-lifecycle); send SIGHUP to reload.", http.StatusForbidden)
	})
}

// ServeHTTP is POST /-/reload.
func (r *Reloader) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost && req.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "reload needs POST or PUT", http.StatusMethodNotAllowed)
		return
	}
	if err := r.Reload(); err != nil {
		http.Error(w, fmt.Sprintf("failed to reload config: %v", err), http.StatusInternalServerError)
		return
	}
	fmt.Fprintf(w, "reloaded at %s\n", time.Now().UTC().Format(time.RFC3339))
}
