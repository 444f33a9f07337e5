// Command openclaw-gatewaysim simulates an OpenClaw gateway for tests and the
// demo: the real gateway's HTTP surface, logs and locks, with faults injected
// through a control API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"

	"github.com/clawwatch/clawwatch/internal/gatewaysim"
	"github.com/clawwatch/clawwatch/internal/openclaw"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	app := kingpin.New("openclaw-gatewaysim", "A simulated OpenClaw gateway with injectable faults, for tests and demos.")
	home, _ := os.UserHomeDir()
	defaultState := filepath.Join(home, ".openclaw")
	if env := os.Getenv("OPENCLAW_STATE_DIR"); env != "" {
		defaultState = env
	}
	var (
		cfg       gatewaysim.Config
		maxSize   units.Base2Bytes
		faults    []string
		maxFiles  uint64
		detach    bool
		tokenFile string
	)
	app.Flag("port", "Gateway port.").Default("18789").IntVar(&cfg.Port)
	app.Flag("bind", "Bind mode: loopback, lan, auto, or an IP address.").Default("loopback").StringVar(&cfg.Bind)
	app.Flag("state-dir", "State directory; locks go to <state-dir>/tmp/openclaw-<uid>/.").Default(defaultState).StringVar(&cfg.StateDir)
	app.Flag("log-dir", "Directory of the openclaw-YYYY-MM-DD.log files.").Default(openclaw.DefaultLogDir).StringVar(&cfg.LogDir)
	app.Flag("log-max-size", "Size at which the log file is rotated (.1 … .5).").Default("100MiB").BytesVar(&maxSize)
	app.Flag("profile", "Profile name, as in openclaw-<profile>-YYYY-MM-DD.log.").StringVar(&cfg.Profile)
	app.Flag("token", "The gateway token: required by /v1/* and by the WebSocket RPC's connect. Empty: /v1/* accepts any caller, and the RPC, like a gateway with auth mode none, refuses clients without a device identity.").Envar("OPENCLAW_GATEWAY_TOKEN").StringVar(&cfg.Token)
	app.Flag("token-file", "Read the gateway token from this file (surrounding whitespace trimmed) instead of --token.").PlaceHolder("FILE").StringVar(&tokenFile)
	app.Flag("gateway-version", "The gateway version to report (Control UI build id, /startupz, /state).").Default("2026.9.6").StringVar(&cfg.Version)
	app.Flag("startup-delay", "How long /readyz reports startup-sidecars after the start, like the real gateway.").Default("0s").DurationVar(&cfg.StartupDelay)
	app.Flag("reasoning-format", "Where chat answers put the thinking: none (inline <think> block) or deepseek (reasoning_content), as llama.cpp's flag.").Default("none").EnumVar(&cfg.ReasoningFormat, gatewaysim.ReasoningFormatNone, gatewaysim.ReasoningFormatDeepSeek)
	app.Flag("fault", "A fault in force from the start, as JSON for POST /faults (repeatable): a gateway that comes back broken.").PlaceHolder(`'{"kind":"hang"}'`).StringsVar(&faults)
	app.Flag("max-open-files", "Lower the soft limit on open file descriptors to this (0: inherit), as a service's LimitNOFILE.").Default("0").Uint64Var(&maxFiles)
	app.Flag("replace", "Stop the gateway listening on --port first (SIGTERM, SIGKILL after 30s), as openclaw update does.").BoolVar(&cfg.Replace)
	app.Flag("detach", "Start in the background and exit 0 once the control API answers, or with the start's exit code.").BoolVar(&detach)
	app.Flag("control.listen-address", "Address of the fault-injection control API.").Default("127.0.0.1:18790").StringVar(&cfg.ControlAddr)
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)
	app.HelpFlag.Short('h')
	app.Version(version.Print("openclaw-gatewaysim"))
	args, deprecated := gatewayVersionArgs(args)
	if deprecated {
		fmt.Fprintln(os.Stderr, "openclaw-gatewaysim: --version VERSION is deprecated, use --gateway-version VERSION (--version alone prints the build)")
	}

	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: %v (try --help)\n", err)
		return 2
	}
	cfg.LogMaxBytes = int64(maxSize)
	if tokenFile != "" {
		token, err := gatewaysim.ReadTokenFile(tokenFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: --token-file: %v\n", err)
			return 2
		}
		cfg.Token = token
	}
	for _, spec := range faults {
		f, err := gatewaysim.ParseFault([]byte(spec))
		if err != nil {
			fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: --fault %s: %v\n", spec, err)
			return 2
		}
		cfg.Faults = append(cfg.Faults, f)
	}
	if detach {
		pid, err := gatewaysim.Detach(args, cfg.ControlAddr, time.Minute)
		if err != nil {
			fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: %v\n", err)
			if se, ok := err.(*gatewaysim.StartError); ok {
				return se.Code
			}
			return 1
		}
		fmt.Printf("openclaw-gatewaysim started in the background, pid %d\n", pid)
		return 0
	}
	if maxFiles > 0 {
		if err := gatewaysim.LimitOpenFiles(maxFiles); err != nil {
			fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: %v\n", err)
			return 2
		}
	}
	cfg.Logger = promslog.New(logCfg)

	// Signals are caught before the locks are written, so a SIGTERM right
	// after the start still removes them.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	sim, err := gatewaysim.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: %v\n", err)
		if se, ok := err.(*gatewaysim.StartError); ok {
			return se.Code
		}
		return 1
	}
	if err := sim.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "openclaw-gatewaysim: %v\n", err)
		return 1
	}
	return 0
}

// gatewayVersionArgs rewrites the deprecated --version VERSION (and
// --version=VERSION), the gateway version to report, to --gateway-version,
// so that --version alone prints the build like every other command's. The
// simulator takes no arguments, so a word after --version that is not a flag
// can only be the version.
func gatewayVersionArgs(args []string) (out []string, deprecated bool) {
	out = make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...), deprecated
		case strings.HasPrefix(a, "--version="):
			out = append(out, "--gateway-version="+strings.TrimPrefix(a, "--version="))
			deprecated = true
		case a == "--version" && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-"):
			out = append(out, "--gateway-version", args[i+1])
			i++
			deprecated = true
		default:
			out = append(out, a)
		}
	}
	return out, deprecated
}
