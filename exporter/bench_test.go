package exporter_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/process"
	"github.com/clawwatch/clawwatch/internal/gatewaysim"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/internal/testing/testbin"
)

// The scrape benchmark's shape: a gateway with 10,000 open descriptors and
// 1,000 TCP connections on its port, whose log receives lines.
const (
	benchFDs      = 10000
	benchConns    = 1000
	benchLineRate = 1000 // log lines per second
	// scrapesPerBlock scrapes of one exporter, then as many of the other,
	// make a round; each round yields one ratio ($CLAWWATCH_BENCH_BLOCK
	// overrides: shorter blocks and more rounds pair the exporters' samples
	// more closely on a machine whose load changes).
	scrapesPerBlock = 100
	// foreignPerProcess foreign connections per helper process: twice as
	// many descriptors, under a common hard limit of 20,000.
	foreignPerProcess = 9000
	// idleWindow is long enough to hold at least one background refresh of
	// the TCP counts, and several probes.
	idleWindow = 12 * time.Second
)

// helperEnv makes the test binary play one of the benchmark's processes
// (see TestScrapeBenchHelper) instead of running tests.
const helperEnv = "CLAWWATCH_SCRAPE_BENCH_HELPER"

// BenchmarkScrapeVsProcessCollector measures the CPU time (not wall time) of
// the real openclaw-exporter per scrape over HTTP, against an exporter with
// only client_golang's process collector watching the same gateway, as
// scrapes alternate between the two in the same run. Each exporter is its
// own process; its CPU is the sum of its threads' run time
// (/proc/PID/task/*/schedstat), background work included: probes every
// second (/healthz, /readyz and the RPC), the log tail of a log receiving
// benchLineRate lines a second, and the background refreshes of the TCP
// counts and the process count. The gateway is the simulator, in a helper
// process holding benchFDs descriptors and benchConns connections.
//
// Each sub-benchmark holds a fixed number of foreign sockets (established
// loopback connections of another process, on other ports), 0, 10,000 and
// 100,000 by default ($CLAWWATCH_BENCH_FOREIGN, comma-separated, overrides),
// to show that a scrape's cost does not grow with them. It reports medians
// over rounds (-benchtime Nx: N rounds) with the lowest and highest ratio,
// the exporter's CPU per second while nobody scrapes it, and the kernel's
// cost for the socket dump the TCP counts refresh with (measured by this
// process), which is what grows with the host.
func BenchmarkScrapeVsProcessCollector(b *testing.B) {
	foreign := []int{0, 10000, 100000}
	if s := os.Getenv("CLAWWATCH_BENCH_FOREIGN"); s != "" {
		foreign = nil
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("CLAWWATCH_BENCH_FOREIGN: %q is not a number", f)
			}
			foreign = append(foreign, n)
		}
	}
	exporterBin := testbin.Command(b, "openclaw-exporter")
	var gw gatewayInfo
	startHelper(b, "gateway", nil, &gw)
	var ref listenInfo
	startHelper(b, "ref", []string{"CLAWWATCH_BENCH_PID=" + strconv.Itoa(gw.PID)}, &ref)
	ours := startExporter(b, exporterBin, gw)
	oursURL, refURL := "http://"+ours.addr+"/metrics", "http://"+ref.Addr+"/metrics"
	// $CLAWWATCH_BENCH_BASELINE, another build of the exporter (the one
	// before a change), is scraped in the same rounds: a before/after ratio
	// measured side by side, where separate runs on a shared machine differ
	// by more than a change.
	block := scrapesPerBlock
	if s := os.Getenv("CLAWWATCH_BENCH_BLOCK"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("CLAWWATCH_BENCH_BLOCK: %q is not a positive number", s)
		}
		block = n
	}
	var base *exporterProc
	if bin := os.Getenv("CLAWWATCH_BENCH_BASELINE"); bin != "" {
		p := startExporter(b, bin, gw)
		base = &p
	}

	// Ready: every collector has reported, the probes have answered and
	// every connection is counted.
	exporters := []exporterProc{ours}
	if base != nil {
		exporters = append(exporters, *base)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, e := range exporters {
		for {
			body, err := benchScrape("http://" + e.addr + "/metrics")
			if err == nil && value(body, `openclaw_gateway_process_tcp_connections{gateway="bench",state="established"}`) >= benchConns &&
				value(body, `openclaw_gateway_up{gateway="bench"}`) == 1 && value(body, `openclaw_log_read_bytes_total{gateway="bench"}`) > 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("exporter not ready within 60s (want %d established connections, probes up, log lines): %v\n%s", benchConns, err, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	for _, n := range foreign {
		b.Run(fmt.Sprintf("foreign=%d", n), func(b *testing.B) {
			// Several processes: each holds both ends of its connections
			// within the hard descriptor limit (20,000 here, not raisable).
			for left := n; left > 0; left -= foreignPerProcess {
				var f listenInfo
				startHelper(b, "foreign", []string{"CLAWWATCH_BENCH_FOREIGN_N=" + strconv.Itoa(min(left, foreignPerProcess))}, &f)
			}
			// Every process is scraped in each round, in an order that
			// rotates, so that none is always first or last.
			procs := []struct {
				pid int
				url string
			}{{ours.pid, oursURL}, {ref.PID, refURL}}
			if base != nil {
				procs = append(procs, struct {
					pid int
					url string
				}{base.pid, "http://" + base.addr + "/metrics"})
			}
			for range 20 { // warm them: connections, buffers
				for _, p := range procs {
					mustScrape(b, p.url)
				}
			}
			idle := idleCPU(b, ours.pid, idleWindow)
			walk := kernelWalk(b)

			cpu := make([][]float64, len(procs))    // per process, per round: CPU per scrape
			ratios := make([][]float64, len(procs)) // per process, per round: its CPU / the reference's
			round := 0
			for b.Loop() {
				start := make([]time.Duration, len(procs))
				for i, p := range procs {
					start[i] = procCPU(b, p.pid)
				}
				for k := range procs {
					p := procs[(round+k)%len(procs)]
					for range block {
						mustScrape(b, p.url)
					}
				}
				// Over the whole round: an exporter's background work while
				// another one is scraped is its cost too.
				for i, p := range procs {
					cpu[i] = append(cpu[i], float64(procCPU(b, p.pid)-start[i])/float64(block))
				}
				for i := range procs {
					ratios[i] = append(ratios[i], cpu[i][round]/cpu[1][round])
				}
				round++
			}
			b.ReportMetric(median(cpu[0])/1e3, "cpu-µs/scrape")
			b.ReportMetric(median(cpu[1])/1e3, "ref-cpu-µs/scrape")
			b.ReportMetric(median(ratios[0]), "x-ref")
			b.ReportMetric(slices.Min(ratios[0]), "x-ref-min")
			b.ReportMetric(slices.Max(ratios[0]), "x-ref-max")
			if base != nil {
				var vsBase []float64
				for r := range cpu[0] {
					vsBase = append(vsBase, cpu[0][r]/cpu[2][r])
				}
				b.ReportMetric(median(ratios[2]), "base-x-ref")
				b.ReportMetric(median(vsBase), "x-base")
				b.ReportMetric(slices.Min(vsBase), "x-base-min")
				b.ReportMetric(slices.Max(vsBase), "x-base-max")
			}
			b.ReportMetric(float64(idle.Microseconds())/idleWindow.Seconds(), "idle-cpu-µs/s")
			b.ReportMetric(float64(walk.Nanoseconds())/1e3, "kernel-walk-µs")
		})
	}
}

// value is a series' value in a scrape's body; -1 when absent.
func value(body, series string) float64 {
	_, rest, ok := strings.Cut(body, "\n"+series+" ")
	if !ok {
		return -1
	}
	v, _, _ := strings.Cut(rest, "\n")
	n, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return -1
	}
	return n
}

// median of xs (sorted in place).
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// procCPU is the run time of every thread of pid so far, in nanoseconds
// (tick-sampled utime and stime would be too coarse for 100 scrapes).
func procCPU(b *testing.B, pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // exited meanwhile
		}
		ns, err := strconv.ParseInt(strings.Fields(string(data))[0], 10, 64)
		if err != nil {
			b.Fatalf("schedstat of pid %d: %v", pid, err)
		}
		total += time.Duration(ns)
	}
	return total
}

// idleCPU is pid's CPU time over d while nobody scrapes it.
func idleCPU(b *testing.B, pid int, d time.Duration) time.Duration {
	start := procCPU(b, pid)
	time.Sleep(d) // a measurement window, not synchronisation
	return procCPU(b, pid) - start
}

// kernelWalk is this thread's CPU time for the socket dump the TCP counts
// refresh with, for a port with no sockets: the kernel walks its whole
// established hash table and every socket in it regardless (median of 21).
func kernelWalk(b *testing.B) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var ts []float64
	for range 21 {
		var r0, r1 syscall.Rusage
		_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &r0)
		if _, err := openclaw.DefaultProcFS.TCPStates(os.Getpid(), port); err != nil {
			b.Fatal(err)
		}
		_ = syscall.Getrusage(1, &r1)
		ts = append(ts, float64(rusageTime(r1)-rusageTime(r0)))
	}
	return time.Duration(median(ts))
}

func rusageTime(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

var benchClient = &http.Client{Timeout: 30 * time.Second}

func benchScrape(url string) (string, error) {
	resp, err := benchClient.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(body), fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return string(body), nil
}

func mustScrape(b *testing.B, url string) {
	if _, err := benchScrape(url); err != nil {
		b.Fatal(err)
	}
}

type listenInfo struct {
	Addr string `json:"addr"`
	PID  int    `json:"pid"`
}

type gatewayInfo struct {
	PID       int    `json:"pid"`
	URL       string `json:"url"`
	StateDir  string `json:"state_dir"`
	LogDir    string `json:"log_dir"`
	TokenFile string `json:"token_file"`
}

// startHelper runs the test binary as a helper process in mode and decodes
// the JSON line it prints once ready into info. The helper exits when its
// stdin closes, at the end of b.
func startHelper(b *testing.B, mode string, env []string, info any) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestScrapeBenchHelper$", "-test.bench=^$")
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode, "CLAWWATCH_BENCH_DIR="+b.TempDir()), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("%s helper: %v", mode, err)
		}
	})
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		b.Fatalf("%s helper did not start: %v", mode, err)
	}
	if err := json.Unmarshal(line, info); err != nil {
		b.Fatalf("%s helper: %q: %v", mode, line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
}

type exporterProc struct {
	pid  int
	addr string
}

// startExporter runs the real openclaw-exporter for the gateway, probing
// every second (the RPC too) and tailing gw.LogDir.
func startExporter(b *testing.B, bin string, gw gatewayInfo) exporterProc {
	dir := b.TempDir()
	cfg := fmt.Sprintf("gateways:\n  - name: bench\n    url: %s\n    state_dir: %s\n    log_dir: %s\n    token_file: %s\n    probe_interval: 1s\n    rpc_interval: 1s\n",
		gw.URL, gw.StateDir, gw.LogDir, gw.TokenFile)
	if err := os.WriteFile(filepath.Join(dir, "exporter.yml"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--config.file", filepath.Join(dir, "exporter.yml"), "--web.listen-address", addr,
		"--no-collector.gpu", "--log.level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	return exporterProc{pid: cmd.Process.Pid, addr: addr}
}

// TestScrapeBenchHelper is not a test: with $CLAWWATCH_SCRAPE_BENCH_HELPER
// set, the test binary plays one process of the scrape benchmark until its
// stdin closes.
func TestScrapeBenchHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv("CLAWWATCH_BENCH_DIR")
	var err error
	switch mode {
	case "gateway":
		err = helpGateway(dir)
	case "ref":
		err = helpRef()
	case "foreign":
		err = helpForeign()
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "scrape bench helper %s: %v\n", mode, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// ready prints info for startHelper and waits until stdin closes.
func ready(info any) error {
	if err := json.NewEncoder(os.Stdout).Encode(info); err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// raiseFDLimit lets this process hold n descriptors (the benchmark runs as
// root, or within the hard limit).
func raiseFDLimit(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= n {
		return nil
	}
	lim.Cur, lim.Max = n, max(lim.Max, n)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise the descriptor limit to %d (root, or a hard limit that high, needed): %w", n, err)
	}
	return nil
}

// helpGateway runs the simulator with benchConns connections on its port,
// benchFDs descriptors in all, and a log receiving benchLineRate real tslog
// lines a second in a directory of its own.
func helpGateway(dir string) error {
	if err := raiseFDLimit(benchFDs + 1000); err != nil {
		return err
	}
	state, simLogs, logs := filepath.Join(dir, "state"), filepath.Join(dir, "sim-logs"), filepath.Join(dir, "logs")
	for _, d := range []string{state, simLogs, logs} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	const token = "scrape-bench-token-0123456789"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	sim, err := gatewaysim.New(gatewaysim.Config{Port: port, Bind: "loopback", StateDir: state, LogDir: simLogs,
		Token: token, Version: "2026.9.6", ControlAddr: "127.0.0.1:0", Exit: func(int) {}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = sim.Run(ctx) }()

	var keep []io.Closer
	defer func() {
		for _, c := range keep {
			c.Close()
		}
	}()
	// Clients that make a request now and then, as the gateway's do: an
	// idle connection would be closed by the server's header timeout.
	for range benchConns {
		c, err := net.Dial("tcp", sim.GatewayAddr())
		if err != nil {
			return err
		}
		keep = append(keep, c)
		go keepAlive(ctx, c)
	}
	for open := openFDs(); open < benchFDs; open++ {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return err
		}
		keep = append(keep, f)
	}

	sample, err := os.ReadFile("../testdata/tslog/openclaw-2026.9.6.log")
	if err != nil {
		return err
	}
	lines := strings.SplitAfter(strings.TrimSuffix(string(sample), "\n"), "\n")
	log, err := os.OpenFile(filepath.Join(logs, "openclaw-"+time.Now().Format("2006-01-02")+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	go func() {
		// benchLineRate/100 lines every 10 ms, whole lines per write.
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var buf []byte
		i := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			buf = buf[:0]
			for range benchLineRate / 100 {
				buf = append(buf, lines[i%len(lines)]...)
				i++
			}
			if _, err := log.Write(buf); err != nil {
				return
			}
		}
	}()
	return ready(gatewayInfo{PID: os.Getpid(), URL: "http://" + sim.GatewayAddr(), StateDir: state, LogDir: logs, TokenFile: tokenFile})
}

// keepAlive sends a request on c every 20 s, within the server's idle
// timeout, until ctx ends or c fails.
func keepAlive(ctx context.Context, c net.Conn) {
	r := bufio.NewReader(c)
	for {
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
			return
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Second):
		}
	}
}

func openFDs() int {
	entries, _ := os.ReadDir("/proc/self/fd")
	return len(entries)
}

// helpRef serves client_golang's process collector for $CLAWWATCH_BENCH_PID,
// and nothing else, over HTTP.
func helpRef() error {
	pid, err := strconv.Atoi(os.Getenv("CLAWWATCH_BENCH_PID"))
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{PidFn: func() (int, error) { return pid, nil }}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(ln, promhttp.HandlerFor(reg, promhttp.HandlerOpts{})) }()
	return ready(listenInfo{Addr: ln.Addr().String(), PID: os.Getpid()})
}

// helpForeign holds $CLAWWATCH_BENCH_FOREIGN_N established loopback
// connections (both ends), spread over listeners so that no listener runs
// out of ephemeral ports.
func helpForeign() error {
	n, err := strconv.Atoi(os.Getenv("CLAWWATCH_BENCH_FOREIGN_N"))
	if err != nil {
		return err
	}
	if err := raiseFDLimit(uint64(2*n + 1000)); err != nil {
		return err
	}
	const perListener = 20000 // of the ephemeral ports one listener's address can take
	var keep []io.Closer
	defer func() {
		for _, c := range keep {
			c.Close()
		}
	}()
	for made := 0; made < n; {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		keep = append(keep, ln)
		batch := min(perListener, n-made)
		accepted := make(chan error, 1)
		go func() {
			for range batch {
				c, err := ln.Accept()
				if err != nil {
					accepted <- err
					return
				}
				keep = append(keep, c) // only this goroutine appends until accepted
			}
			accepted <- nil
		}()
		var dialed []io.Closer
		for range batch {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return fmt.Errorf("after %d connections: %w", made+len(dialed), err)
			}
			dialed = append(dialed, c)
		}
		if err := <-accepted; err != nil {
			return err
		}
		keep = append(keep, dialed...)
		made += batch
	}
	return ready(listenInfo{PID: os.Getpid()})
}

// BenchmarkScrapeInProcess serves the exporter inside the benchmark, as
// cmd/openclaw-exporter registers it (the Go and process collectors of its
// own process included), for the same gateway helper as
// BenchmarkScrapeVsProcessCollector, so that -cpuprofile shows where a
// scrape's CPU goes:
//
//	go test -run '^$' -bench ScrapeInProcess -benchtime 3000x -cpuprofile cpu.out ./exporter/
//
// Its time per operation is wall time with the collectors in parallel; the
// CPU comparison is BenchmarkScrapeVsProcessCollector's.
func BenchmarkScrapeInProcess(b *testing.B) {
	var gw gatewayInfo
	startHelper(b, "gateway", nil, &gw)
	cfg, err := config.Parse(fmt.Appendf(nil, "gateways:\n  - name: bench\n    url: %s\n    state_dir: %s\n    log_dir: %s\n    token_file: %s\n    probe_interval: 1s\n    rpc_interval: 1s\n",
		gw.URL, gw.StateDir, gw.LogDir, gw.TokenFile), "")
	if err != nil {
		b.Fatal(err)
	}
	exp, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(exp.Close)
	reg := prometheus.NewRegistry()
	reg.MustRegister(exp, collectors.NewGoCollector(), process.NewSelf()) // as cmd/openclaw-exporter
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	b.Cleanup(srv.Close)
	url := srv.URL + "/metrics"
	deadline := time.Now().Add(60 * time.Second)
	for {
		body, err := benchScrape(url)
		if err == nil && value(body, `openclaw_gateway_process_tcp_connections{gateway="bench",state="established"}`) >= benchConns &&
			value(body, `openclaw_gateway_up{gateway="bench"}`) == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("exporter not ready within 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for b.Loop() {
		mustScrape(b, url)
	}
}
