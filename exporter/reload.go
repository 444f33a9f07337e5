package exporter

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/exporter/config"
)

// Reloader re-reads the configuration file on demand; a bad file leaves the
// running configuration in place.
type Reloader struct {
	path    string
	exp     *Exporter
	logger  *slog.Logger
	success prometheus.Gauge
	at      prometheus.Gauge
	mu      sync.Mutex
}

// NewReloader registers the reload metrics on reg. path "" means the
// built-in default configuration, which a reload keeps.
func NewReloader(path string, exp *Exporter, reg prometheus.Registerer, logger *slog.Logger) *Reloader {
	r := &Reloader{
		path:   path,
		exp:    exp,
		logger: logger,
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openclaw_exporter_config_last_reload_successful",
			Help: "1 if the last configuration load succeeded.",
		}),
		at: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "openclaw_exporter_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration was last loaded successfully.",
		}),
	}
	reg.MustRegister(r.success, r.at)
	r.success.Set(1)
	r.at.SetToCurrentTime()
	return r
}

// Reload loads the file and applies it.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.reload()
	if err != nil {
		r.success.Set(0)
		r.logger.Error("reload failed; the previous configuration stays live", "err", err)
		return err
	}
	r.success.Set(1)
	r.at.SetToCurrentTime()
	r.logger.Info("configuration reloaded", "file", r.path)
	return nil
}

func (r *Reloader) reload() error {
	cfg := config.Default()
	if r.path != "" {
		var err error
		if cfg, err = config.Load(r.path); err != nil {
			return err
		}
	}
	return r.exp.Apply(cfg)
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
