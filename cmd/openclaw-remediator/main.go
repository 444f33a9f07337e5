// Command openclaw-remediator receives Alertmanager webhooks and restarts,
// cleans up and rolls back OpenClaw gateways, safely and on the record.
package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	webflag "github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/clawwatch/clawwatch/internal/httpserve"
	"github.com/clawwatch/clawwatch/internal/reload"
	"github.com/clawwatch/clawwatch/remediator"
	"github.com/clawwatch/clawwatch/remediator/actions"
	"github.com/clawwatch/clawwatch/remediator/auth"
	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/console"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	app := kingpin.New("openclaw-remediator", "Safe, audited remediation of OpenClaw gateways from Alertmanager webhooks.")
	app.Version(version.Print("openclaw-remediator"))
	app.HelpFlag.Short('h')
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)

	serve := app.Command("serve", "Run the webhook receiver and the remediation workers (default).").Default()
	configFile := serve.Flag("config.file", "Configuration file.").Default("openclaw-remediator.yml").String()
	tokenFile := serve.Flag("web.bearer-token-file", "File holding the bearer token that webhook and API requests must present.").String()
	insecure := serve.Flag("web.insecure-no-auth", "Serve the API without any authentication (testing only).").Bool()
	// Loopback by default: whoever reaches this listener can ask for
	// restarts (authenticated, but still). Alertmanager elsewhere needs an
	// explicit --web.listen-address, and then TLS in --web.config.file.
	webConfig := webflag.AddFlags(serve, "127.0.0.1:9788")
	// Webhooks and API calls are small and quick, the console's pages too.
	limits := httpserve.AddFlags(serve, httpserve.Limits{
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute,
		IdleTimeout: time.Minute, MaxConnections: httpserve.DefaultMaxConnections,
	})
	links := consoleLinks{}
	serve.Flag("web.external-url", "The URL under which the remediator is reachable (for example behind a reverse proxy), used for links to the console's incident pages in escalation notifications. A path in it prefixes the console's links; the proxy must strip it.").StringVar(&links.external)
	serve.Flag("console.prometheus-url", "Prometheus' external URL: incident pages link to their alert there.").StringVar(&links.prometheus)
	serve.Flag("console.grafana-url", "Grafana's external URL: incident pages link to the gateway's overview dashboard there.").StringVar(&links.grafana)
	serve.Flag("prometheus.url", "Prometheus' URL, whose HTTP API observes each batch of a guarded upgrade (firing alerts, reasoning pass ratio). Without it only dry runs of upgrades are possible.").StringVar(&links.api)

	check := app.Command("check-config", "Check a configuration file and exit.")
	checkFile := check.Arg("file", "Configuration file.").Default("openclaw-remediator.yml").String()

	cl := &client{}
	list := app.Command("list", "List incidents.")
	cl.flags(list)
	listState := list.Flag("state", "Only incidents in this state (received, pending, queued, running, done).").String()
	listDecision := list.Flag("decision", "Only incidents with this decision.").String()
	listTarget := list.Flag("target", "Only incidents of this target.").String()
	listLimit := list.Flag("limit", "At most this many incidents (the API gives 1000 at most per page).").Default("50").Int()
	listCursor := list.Flag("cursor", "Continue a listing after the page that printed this cursor.").String()
	listJSON := list.Flag("json", "Print JSON.").Bool()
	approve := app.Command("approve", "Approve a pending incident: its action runs.")
	cl.flags(approve)
	approveID := approve.Arg("id", "Incident id.").Required().String()
	reject := app.Command("reject", "Reject a pending incident.")
	cl.flags(reject)
	rejectID := reject.Arg("id", "Incident id.").Required().String()
	reset := app.Command("reset", "Close a target's open circuit.")
	cl.flags(reset)
	resetTarget := reset.Arg("target", "Target name.").Required().String()
	upg := app.Command("upgrade", "Upgrade gateways to a version batch by batch: each batch verified on it and observed in Prometheus; a failed batch is rolled back to its recorded versions and the upgrade stops.")
	cl.flags(upg)
	uo := upgradeOptions{poll: 2 * time.Second}
	upg.Flag("to", "Version to install; must match every target's rollback.version_pattern.").Required().StringVar(&uo.to)
	upg.Flag("targets", "Comma-separated targets, upgraded in this order (default: every configured target).").StringVar(&uo.targets)
	upg.Flag("batch-size", "Targets per batch.").Default("1").IntVar(&uo.batchSize)
	upg.Flag("dry-run", "Print the plan (batches, each target's running version, its update argv) and change nothing.").BoolVar(&uo.dryRun)
	upg.Flag("wait", "Follow the upgrade to its end; exit 1 unless it is done.").Default("true").BoolVar(&uo.wait)
	jcmds := addJournalCommands(app)

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "openclaw-remediator: %v\n", err)
		return 2
	}
	if rc, ok := jcmds.run(cmd); ok {
		return rc
	}
	switch cmd {
	case check.FullCommand():
		return checkConfig(*checkFile)
	case list.FullCommand():
		return cl.list(*listState, *listDecision, *listTarget, *listCursor, *listLimit, *listJSON)
	case approve.FullCommand():
		return cl.settle(*approveID, "approve")
	case reject.FullCommand():
		return cl.settle(*rejectID, "reject")
	case reset.FullCommand():
		return cl.reset(*resetTarget)
	case upg.FullCommand():
		return cl.upgrade(uo)
	}
	logger := promslog.New(logCfg)
	return serveMain(logger, *configFile, *tokenFile, *insecure, webConfig, *limits, links)
}

// consoleLinks are the URL flags of the console, checked at start, and
// --prometheus.url, the API upgrades query.
type consoleLinks struct{ external, prometheus, grafana, api string }

// parseFlagURL checks an optional absolute http(s) URL flag.
func parseFlagURL(flag, s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--%s: %q is not an absolute http(s) URL", flag, s)
	}
	return u, nil
}

func (l consoleLinks) parse() (external, prometheus, grafana *url.URL, err error) {
	parse := parseFlagURL
	if _, err = parse("prometheus.url", l.api); err != nil {
		return
	}
	if external, err = parse("web.external-url", l.external); err != nil {
		return
	}
	if prometheus, err = parse("console.prometheus-url", l.prometheus); err != nil {
		return
	}
	grafana, err = parse("console.grafana-url", l.grafana)
	return
}

func checkConfig(path string) int {
	cfg, err := config.Load(path, actions.ConfigSpecs())
	if err != nil {
		fmt.Fprintf(os.Stderr, "openclaw-remediator: %v\n", err)
		return 1
	}
	fmt.Printf("config OK: %d target(s), %d polic(ies), journal %s\n", len(cfg.Targets), len(cfg.Policies), cfg.Journal.Path)
	return 0
}

func serveMain(logger *slog.Logger, configFile, tokenFile string, insecure bool, webConfig *web.FlagConfig, limits httpserve.Limits, links consoleLinks) int {
	cfg, err := config.Load(configFile, actions.ConfigSpecs())
	if err != nil {
		logger.Error("cannot load configuration", "err", err)
		return 1
	}
	externalURL, prometheusURL, grafanaURL, err := links.parse()
	if err != nil {
		logger.Error("bad flag", "err", err)
		return 1
	}
	var bearer *auth.Bearer
	if tokenFile != "" {
		if bearer, err = auth.NewBearer(tokenFile); err != nil {
			logger.Error("cannot read bearer token", "err", err)
			return 1
		}
	}
	webAuth := false
	if webConfig.WebConfigFile != nil {
		if webAuth, err = auth.WebConfigAuthenticates(*webConfig.WebConfigFile); err != nil {
			logger.Error("cannot read web config", "err", err)
			return 1
		}
	}
	if bearer == nil && !webAuth {
		if !insecure {
			logger.Error("refusing to start", "err", auth.ErrNoAuth)
			return 1
		}
		logger.Warn("serving the remediation API WITHOUT authentication (--web.insecure-no-auth): anyone who reaches it can trigger restarts")
	}

	j, err := journal.Open(cfg.Journal.Path, journal.Options{})
	if err != nil {
		logger.Error("cannot open journal", "err", err)
		return 1
	}
	defer j.Close()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ropts := remediator.Options{PrometheusURL: links.api}
	if externalURL != nil {
		ropts.IncidentURL = func(id string) string { return console.IncidentURL(externalURL, id) }
	}
	rem, err := remediator.New(cfg, j, reg, logger, ropts)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	if err := rem.Start(); err != nil {
		logger.Error("cannot recover journal", "err", err)
		return 1
	}
	defer rem.Close()
	logger.Info("starting openclaw-remediator", "version", version.Info(), "targets", len(cfg.Targets), "journal", cfg.Journal.Path, "dry_run", cfg.DryRun)

	reloader := reload.New(configFile, func() error {
		c, err := config.Load(configFile, actions.ConfigSpecs())
		if err != nil {
			return err
		}
		if bearer != nil {
			if err := bearer.Reload(); err != nil {
				return err
			}
		}
		return rem.Apply(c)
	}, rem.ReloadResult, logger)
	reloader.OnSIGHUP()

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.Handle("/api/", rem.Handler(bearer.Wrap))
	mux.Handle("POST /-/reload", bearer.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if err := reloader.Reload(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "reloaded")
	})))
	var token func(string) bool
	if bearer != nil {
		token = bearer.Matches
	}
	con, err := console.New(console.Options{
		Backend: rem.Incidents(), Config: rem.Config, Token: token, ExternalURL: externalURL, PrometheusURL: prometheusURL, GrafanaURL: grafanaURL,
		Logger: logger.With("component", "console"),
	})
	if err != nil {
		logger.Error("console", "err", err)
		return 1
	}
	mux.Handle(console.Path, con.Handler())
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if err := rem.Ready(); err != nil {
			http.Error(w, "Not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	landing, err := web.NewLandingPage(web.LandingConfig{
		Name:        "OpenClaw Remediator",
		Description: "Remediation of OpenClaw gateways from Alertmanager webhooks",
		Version:     version.Info(),
		Links: []web.LandingLinks{
			{Address: "/metrics", Text: "Metrics"},
			{Address: "/console/", Text: "Console: incidents, approvals, targets (authenticated)"},
			{Address: "/api/v1/incidents", Text: "Incidents API (authenticated)"},
			{Address: "/-/healthy", Text: "Health"},
			{Address: "/-/ready", Text: "Readiness"},
		},
		// No net/http/pprof is served: don't link it.
		Profiling: "false",
	})
	if err != nil {
		logger.Error("landing page", "err", err)
		return 1
	}
	mux.Handle("/", landing)

	if err := httpserve.ServeUntilSignal(limits.Server(mux), webConfig, limits.MaxConnections, logger); err != nil {
		logger.Error("http server", "err", err)
		return 1
	}
	return 0
}
