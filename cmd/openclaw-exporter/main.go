// Command openclaw-exporter is a Prometheus exporter for OpenClaw gateways.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
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

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/gpu"
	"github.com/clawwatch/clawwatch/exporter/process"
	"github.com/clawwatch/clawwatch/exporter/reasoning"
	"github.com/clawwatch/clawwatch/internal/buildinfo"
	"github.com/clawwatch/clawwatch/internal/httpserve"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		configFile  = kingpin.Flag("config.file", "Configuration file; without one the local default gateway is monitored.").String()
		configCheck = kingpin.Flag("config.check", "Check the configuration file and exit.").Bool()
		metricsPath = kingpin.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
		maxRequests = kingpin.Flag("web.max-requests", "Maximum number of parallel scrape requests; 0 disables the limit.").Default("40").Int()
		webConfig   = webflag.AddFlags(kingpin.CommandLine, ":9787")
		// A scrape lasts as long as its slowest collector's deadline: reads
		// and writes get minutes, a connection without a request seconds,
		// and keep-alive outlasts a 1m scrape interval.
		limits = httpserve.AddFlags(kingpin.CommandLine, httpserve.Limits{
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, WriteTimeout: 2 * time.Minute,
			IdleTimeout: 2 * time.Minute, MaxConnections: httpserve.DefaultMaxConnections,
		})
		lifecycle   = kingpin.Flag("web.enable-lifecycle", "Enable reload via HTTP request (POST /-/reload); SIGHUP always reloads.").Bool()
		gpuEnabled  = kingpin.Flag("collector.gpu", "Collect NVIDIA GPU metrics through NVML (--no-collector.gpu disables).").Default("true").Bool()
		gpuRequired = kingpin.Flag("collector.gpu.required", "Fail at startup when NVML or a GPU is unavailable, for hosts where a missing GPU is itself an incident.").Bool()
		memLimit    = kingpin.Flag("runtime.memory-limit", "Soft memory limit of the Go runtime, e.g. 16MiB (debug.SetMemoryLimit): near it the garbage collector runs more often and returns idle memory to the OS sooner, at some CPU (see docs/benchmarks.md). A soft limit: a live heap larger than it (many gateways) makes the collector run up to half a core, so size it to the gateways watched. 0 (the default) sets none; GOMEMLIMIT in the environment takes precedence.").Default("0").Bytes()
	)
	collectorOn := map[string]*bool{}
	for _, name := range exporter.Collectors {
		collectorOn[name] = kingpin.Flag("collector."+name, collectorHelp[name]+" (--no-collector."+name+" disables).").Default("true").Bool()
	}
	kingpin.Command("serve", "Serve metrics: the default when no command is given.").Default()
	var oneShot reasoning.OneShot
	reasoningRun := kingpin.Command("reasoning", "Reasoning-quality probe.").
		Command("run", "Run a reasoning suite once against a model server and print a report. Exit 0: all passed, 1: some failed, 2: could not run.")
	reasoningRun.Flag("suite", "Suite file; without one the embedded default suite.").PlaceHolder("FILE").StringVar(&oneShot.SuiteFile)
	reasoningRun.Flag("endpoint", "Base URL of the OpenAI-compatible server; /v1/chat/completions or /v1/completions is appended.").Required().PlaceHolder("URL").StringVar(&oneShot.Endpoint)
	reasoningRun.Flag("model", "The model field of the requests.").PlaceHolder("NAME").StringVar(&oneShot.Model)
	reasoningRun.Flag("api", "chat (/v1/chat/completions) or completions (/v1/completions).").Default("chat").EnumVar(&oneShot.API, "chat", "completions")
	reasoningRun.Flag("api-key-file", "File holding the API key, sent as a bearer token.").PlaceHolder("FILE").StringVar(&oneShot.APIKeyFile)
	reasoningRun.Flag("timeout", "Per-test timeout; a test's own timeout wins.").Default("60s").DurationVar(&oneShot.Timeout)
	reasoningRun.Flag("retries", "Retries of a request that failed in transport, with backoff; a refused connection ends the run at once.").Default("2").IntVar(&oneShot.Retries)
	reasoningRun.Flag("tls.ca-file", "CA certificate to verify the server with.").PlaceHolder("FILE").StringVar(&oneShot.TLS.CAFile)
	reasoningRun.Flag("tls.insecure-skip-verify", "Do not verify the server's certificate.").BoolVar(&oneShot.TLS.InsecureSkipVerify)
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(kingpin.CommandLine, logCfg)
	kingpin.Version(version.Print("openclaw-exporter"))
	kingpin.HelpFlag.Short('h')
	command, err := kingpin.CommandLine.Parse(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "openclaw-exporter: %v (try --help)\n", err)
		return 2
	}
	if command == reasoningRun.FullCommand() {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return oneShot.Run(ctx, os.Stdout, os.Stderr)
	}
	logger := promslog.New(logCfg)
	if limit, from := memoryLimit(int64(*memLimit), os.Getenv("GOMEMLIMIT")); from == "flag" {
		debug.SetMemoryLimit(limit)
		logger.Debug("soft memory limit", "bytes", limit, "from", "--runtime.memory-limit")
	} else {
		logger.Debug("soft memory limit", "from", from)
	}

	cfg := config.Default()
	if *configFile != "" {
		var err error
		if cfg, err = config.Load(*configFile); err != nil {
			fmt.Fprintf(os.Stderr, "openclaw-exporter: %v\n", err)
			return 1
		}
	}
	if *configCheck {
		fmt.Printf("config OK: %d gateway(s)\n", len(cfg.Gateways))
		return 0
	}
	logger.Info("starting openclaw-exporter", "version", version.Info(), "gateways", len(cfg.Gateways))

	var off []string
	for _, name := range exporter.Collectors {
		if !*collectorOn[name] {
			off = append(off, name)
		}
	}
	exp, err := exporter.New(cfg, logger, exporter.WithoutCollectors(off...))
	if err != nil {
		logger.Error("cannot start", "err", err)
		return 1
	}
	defer exp.Close()
	if *gpuEnabled || *gpuRequired {
		gpus := gpu.Open(gpu.Options{Processes: exp.GPUProcesses}, logger)
		defer gpus.Close()
		if *gpuRequired {
			if err := gpus.Available(); err != nil {
				logger.Error("--collector.gpu.required: no usable GPU", "err", err)
				return 1
			}
		}
		exp.AddHostCollector("gpu", gpus)
	}
	reg := prometheus.NewRegistry()
	// The exporter's own health, like every Prometheus exporter's; its
	// process_* series read only what changes per scrape (process.NewSelf).
	reg.MustRegister(exp, buildinfo.Collector("openclaw_exporter"),
		collectors.NewGoCollector(), process.NewSelf())
	reloader := exporter.NewReloader(*configFile, exp, reg, logger)
	reloader.OnSIGHUP()

	mux := http.NewServeMux()
	// Compressed at gzip's fastest level by fastGzip rather than at
	// promhttp's default level: the larger share of a scrape's CPU.
	mux.Handle(*metricsPath, fastGzip(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: *maxRequests,
		ErrorLog:            slogAdapter{logger},
		EnableOpenMetrics:   true,
		DisableCompression:  true,
	})))
	mux.Handle("/-/reload", reloader.Handler(*lifecycle))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Healthy") })
	// Ready as soon as it serves: the configuration is loaded and the
	// collectors registered before the listener opens.
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "Ready") })
	if *metricsPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "OpenClaw Exporter",
			Description: "Prometheus exporter for OpenClaw gateways",
			Version:     version.Info(),
			Links: []web.LandingLinks{
				{Address: *metricsPath, Text: "Metrics"},
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
	}
	if err := httpserve.ServeUntilSignal(limits.Server(mux), webConfig, limits.MaxConnections, logger); err != nil {
		logger.Error("http server", "err", err)
		return 1
	}
	return 0
}

// collectorHelp describes each per-gateway collector for its flag.
var collectorHelp = map[string]string{
	"gateway":      "Probe the gateway's HTTP endpoints (and RPC with a token)",
	"process":      "Read the gateway process's CPU, memory and file descriptors from /proc",
	"locks":        "Read the gateway's lock files in its state directory",
	"logs":         "Tail the gateway's log files for error patterns",
	"reasoning":    "Run the reasoning suites against the gateway's models",
	"model_server": "Probe the health of the gateway's model servers",
}

// slogAdapter lets promhttp log through slog.
type slogAdapter struct {
	l interface{ Error(string, ...any) }
}

func (a slogAdapter) Println(v ...any) { a.l.Error(fmt.Sprint(v...)) }

// memoryLimit says which soft memory limit applies: GOMEMLIMIT when set (the
// runtime has applied it already; from is "GOMEMLIMIT"), else the flag's
// (from is "flag"), or none when the flag is 0 (from is "off").
func memoryLimit(flag int64, env string) (limit int64, from string) {
	switch {
	case env != "":
		return 0, "GOMEMLIMIT"
	case flag > 0:
		return flag, "flag"
	default:
		return 0, "off"
	}
}
