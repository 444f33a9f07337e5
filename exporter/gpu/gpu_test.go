//go:build cgo

package gpu

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/clawwatch/clawwatch/exporter/gpu/gputest"
	"github.com/clawwatch/clawwatch/internal/metricsdoc"
)

// updater adapts the collector to a registry, as the exporter does.
type updater struct{ c *Collector }

func (u updater) Describe(chan<- *prometheus.Desc) {}
func (u updater) Collect(ch chan<- prometheus.Metric) {
	if err := u.c.Update(ch); err != nil {
		ch <- prometheus.NewInvalidMetric(prometheus.NewDesc("gpu_error", "", nil, nil), err)
	}
}

// fakeClock is advanced by hand so the TTL and retry schedule are exact.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func newCollector(t *testing.T, lib nvml.Interface, logs *bytes.Buffer, procs ...Process) (*Collector, *fakeClock) {
	t.Helper()
	if logs == nil {
		logs = &bytes.Buffer{}
	}
	c := New(lib, Options{Processes: func() []Process { return procs }}, slog.New(slog.NewTextHandler(logs, nil)))
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c.now = clock.now
	t.Cleanup(c.Close)
	return c, clock
}

// scrape runs one collection and returns its series by name and the error.
func scrape(t *testing.T, c *Collector) (map[string][]*dto.Metric, error) {
	t.Helper()
	ch := make(chan prometheus.Metric, 1000)
	err := c.Update(ch)
	close(ch)
	out := map[string][]*dto.Metric{}
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			t.Fatal(err)
		}
		name := m.Desc().String()
		name = name[strings.Index(name, `"`)+1:]
		name = name[:strings.Index(name, `"`)]
		out[name] = append(out[name], &pb)
	}
	return out, err
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// byUUID picks the series of one GPU.
func byUUID(ms []*dto.Metric, uuid string) []*dto.Metric {
	var out []*dto.Metric
	for _, m := range ms {
		if label(m, "uuid") == uuid {
			out = append(out, m)
		}
	}
	return out
}

func TestHealthyHost(t *testing.T) {
	h := gputest.NewHost()
	c, _ := newCollector(t, h, nil,
		Process{PID: 1003, Gateway: "default", Role: RoleGateway},
		Process{PID: 1005, Gateway: "default", Role: RoleModelServer})
	ms, err := scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if v := value(ms["openclaw_gpu_nvml_up"][0]); v != 1 {
		t.Errorf("nvml_up = %v", v)
	}
	if n := len(ms["openclaw_gpu_info"]); n != 8 {
		t.Fatalf("%d info series, want 8", n)
	}
	uuid3, _ := h.Device(3).GetUUID()
	info := byUUID(ms["openclaw_gpu_info"], uuid3)[0]
	for name, want := range map[string]string{
		"index": "3", "name": "Mock NVIDIA A100-SXM4-40GB", "driver_version": "550.54.15", "cuda_version": "12.4",
		"pci_bus_id": "0000:03:00.0",
	} {
		if got := label(info, name); got != want {
			t.Errorf("info %s = %q, want %q", name, got, want)
		}
	}
	for _, tc := range []struct {
		metric string
		want   float64
	}{
		{"openclaw_gpu_utilization_ratio", 0.03},
		{"openclaw_gpu_memory_utilization_ratio", 0.01},
		{"openclaw_gpu_memory_used_bytes", 10 << 30},
		{"openclaw_gpu_memory_total_bytes", 40960 << 20},
		{"openclaw_gpu_temperature_celsius", 43},
		{"openclaw_gpu_power_watts", 100},
		{"openclaw_gpu_power_limit_watts", 400},
		{"openclaw_gpu_xid_errors_total", 0},
	} {
		got := byUUID(ms[tc.metric], uuid3)
		if len(got) != 1 || value(got[0]) != tc.want {
			t.Errorf("%s{uuid=%s} = %v, want %v", tc.metric, uuid3, got, tc.want)
		}
	}
	clocks := map[string]float64{}
	for _, m := range byUUID(ms["openclaw_gpu_clock_hertz"], uuid3) {
		clocks[label(m, "clock")] = value(m)
	}
	if clocks["sm"] != 1410e6 || clocks["memory"] != 1215e6 {
		t.Errorf("clocks = %v", clocks)
	}
	throttle := byUUID(ms["openclaw_gpu_throttle_active"], uuid3)
	if len(throttle) != len(throttleReasons) {
		t.Errorf("%d throttle series, want the fixed set of %d", len(throttle), len(throttleReasons))
	}
	for _, m := range throttle {
		if want := map[bool]float64{true: 1, false: 0}[label(m, "reason") == "gpu_idle"]; value(m) != want {
			t.Errorf("throttle %s = %v", label(m, "reason"), value(m))
		}
	}
	if n := len(byUUID(ms["openclaw_gpu_ecc_errors_total"], uuid3)); n != 2 {
		t.Errorf("%d ECC series, want corrected and uncorrected", n)
	}
	procs := ms["openclaw_gpu_process_memory_used_bytes"]
	if len(procs) != 2 {
		t.Fatalf("process memory series: %v, want the two watched processes only", procs)
	}
	for _, m := range procs {
		if value(m) != 1<<30 || label(m, "gateway") != "default" {
			t.Errorf("process memory %v", m)
		}
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(updater{c})
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestLibraryMissing(t *testing.T) {
	h := gputest.NewHost()
	var inits atomic.Int32
	h.InitFunc = func() nvml.Return { inits.Add(1); return nvml.ERROR_LIBRARY_NOT_FOUND }
	var logs bytes.Buffer
	c, clock := newCollector(t, h, &logs)
	for range 3 {
		ms, err := scrape(t, c)
		if err != nil {
			t.Fatalf("a host without NVML is not a collector failure: %v", err)
		}
		if len(ms) != 1 || value(ms["openclaw_gpu_nvml_up"][0]) != 0 {
			t.Fatalf("series = %v, want only openclaw_gpu_nvml_up 0", ms)
		}
		clock.advance(3 * time.Second) // past the TTL, before the retry
	}
	if n := inits.Load(); n != 1 {
		t.Errorf("Init called %d times within the retry interval, want 1", n)
	}
	if n := strings.Count(logs.String(), "GPU metrics unavailable"); n != 1 {
		t.Errorf("said %d times that GPU metrics are unavailable, want once:\n%s", n, logs.String())
	}
	if err := c.Available(); err == nil || !strings.Contains(err.Error(), "ERROR_LIBRARY_NOT_FOUND") {
		t.Errorf("Available() = %v, want the reason", err)
	}
	clock.advance(10 * time.Second)
	scrape(t, c)
	if n := inits.Load(); n != 2 {
		t.Errorf("Init called %d times after the retry interval, want 2", n)
	}
}

func TestMissingSymbolIsNeverCalled(t *testing.T) {
	h := gputest.NewHost()
	h.LookupSymbolFunc = func(sym string) error {
		if sym == symPowerUsage || sym == symEventReasons {
			return fmt.Errorf("undefined symbol: %s", sym)
		}
		return nil
	}
	for i := range h.Devices {
		// Unset mock functions panic when called, as a missing symbol
		// would crash a real exporter.
		h.Device(i).GetPowerUsageFunc = nil
		h.Device(i).GetCurrentClocksEventReasonsFunc = nil
		h.Device(i).GetCurrentClocksThrottleReasonsFunc = func() (uint64, nvml.Return) {
			return nvml.ClocksThrottleReasonHwSlowdown, nvml.SUCCESS
		}
	}
	c, _ := newCollector(t, h, nil)
	ms, err := scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ms["openclaw_gpu_power_watts"]; ok {
		t.Error("power reported although its symbol is missing")
	}
	if len(ms["openclaw_gpu_power_limit_watts"]) != 8 {
		t.Error("the other power series should stay")
	}
	active := 0
	for _, m := range ms["openclaw_gpu_throttle_active"] {
		if value(m) == 1 && label(m, "reason") == "hw_slowdown" {
			active++
		}
	}
	if active != 8 {
		t.Errorf("older drivers: throttle reasons from the deprecated call on %d GPUs, want 8", active)
	}
}

func TestNotSupportedIsAbsentNotZero(t *testing.T) {
	h := gputest.NewHost()
	for i := range h.Devices {
		h.Device(i).GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
		h.Device(i).GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) {
			return 0, nvml.ERROR_NOT_SUPPORTED
		}
	}
	c, _ := newCollector(t, h, nil)
	ms, err := scrape(t, c)
	if err != nil {
		t.Fatalf("NOT_SUPPORTED is not an error: %v", err)
	}
	for _, name := range []string{"openclaw_gpu_power_watts", "openclaw_gpu_ecc_errors_total"} {
		if _, ok := ms[name]; ok {
			t.Errorf("%s present although NVML does not support it", name)
		}
	}
}

func TestOtherFieldErrorsFailTheCollector(t *testing.T) {
	h := gputest.NewHost()
	h.Device(2).GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, nvml.ERROR_UNKNOWN }
	c, _ := newCollector(t, h, nil)
	ms, err := scrape(t, c)
	if err == nil || !strings.Contains(err.Error(), "temperature") {
		t.Errorf("err = %v, want the failing field named", err)
	}
	if n := len(ms["openclaw_gpu_temperature_celsius"]); n != 7 {
		t.Errorf("%d temperatures, want the 7 readable ones", n)
	}
}

func TestGPULostAndRecovered(t *testing.T) {
	h := gputest.NewHost()
	var inits, shutdowns atomic.Int32
	h.InitFunc = func() nvml.Return { inits.Add(1); return nvml.SUCCESS }
	h.ShutdownFunc = func() nvml.Return { shutdowns.Add(1); return nvml.SUCCESS }
	c, clock := newCollector(t, h, nil)
	if _, err := scrape(t, c); err != nil {
		t.Fatal(err)
	}

	var lost atomic.Bool
	lost.Store(true)
	h.Device(5).GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		if lost.Load() {
			return 0, nvml.ERROR_GPU_IS_LOST
		}
		return 45, nvml.SUCCESS
	}
	clock.advance(3 * time.Second)
	ms, err := scrape(t, c)
	if err == nil || !strings.Contains(err.Error(), "ERROR_GPU_IS_LOST") {
		t.Errorf("err = %v, want the lifecycle error", err)
	}
	if len(ms) != 1 || value(ms["openclaw_gpu_nvml_up"][0]) != 0 {
		t.Errorf("after a lost GPU: %v, want only nvml_up 0", ms)
	}
	if shutdowns.Load() != 1 {
		t.Errorf("NVML shut down %d times, want 1", shutdowns.Load())
	}

	clock.advance(3 * time.Second) // within the retry interval: no Init
	scrape(t, c)
	if inits.Load() != 1 {
		t.Errorf("re-initialised %d times before the retry interval", inits.Load()-1)
	}
	lost.Store(false)
	clock.advance(10 * time.Second)
	ms, err = scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if inits.Load() != 2 || value(ms["openclaw_gpu_nvml_up"][0]) != 1 || len(ms["openclaw_gpu_temperature_celsius"]) != 8 {
		t.Errorf("after recovery: inits %d, series %v", inits.Load(), ms["openclaw_gpu_nvml_up"])
	}
}

func TestMIGAndUnsupportedDevicesSkipped(t *testing.T) {
	h := gputest.NewHost()
	h.Device(0).MigMode = nvml.DEVICE_MIG_ENABLE
	h.Device(0).GetUtilizationRatesFunc = nil // NVML does not answer per GPU in MIG mode
	h.Device(7).GetUUIDFunc = func() (string, nvml.Return) { return "", nvml.ERROR_NOT_SUPPORTED }
	var logs bytes.Buffer
	c, _ := newCollector(t, h, &logs)
	ms, err := scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(ms["openclaw_gpu_info"]); n != 7 {
		t.Errorf("%d GPUs, want 7 (one unsupported)", n)
	}
	uuid0, _ := h.Device(0).GetUUID()
	if len(byUUID(ms["openclaw_gpu_utilization_ratio"], uuid0)) != 0 {
		t.Error("utilisation reported for a MIG-enabled GPU")
	}
	if len(byUUID(ms["openclaw_gpu_memory_used_bytes"], uuid0)) != 1 {
		t.Error("memory of the MIG-enabled GPU is missing")
	}
	if !strings.Contains(logs.String(), "GPU skipped") {
		t.Errorf("the skipped GPU is not logged:\n%s", logs.String())
	}
}

func TestNoGPU(t *testing.T) {
	h := gputest.NewHost()
	h.DeviceGetCountFunc = func() (int, nvml.Return) { return 0, nvml.SUCCESS }
	c, _ := newCollector(t, h, nil)
	ms, err := scrape(t, c)
	if err != nil || value(ms["openclaw_gpu_nvml_up"][0]) != 0 {
		t.Errorf("no GPU: err %v, up %v", err, ms["openclaw_gpu_nvml_up"])
	}
	if err := c.Available(); err == nil || !strings.Contains(err.Error(), "no GPU") {
		t.Errorf("Available() = %v", err)
	}
}

func TestConcurrentScrapesShareOneCollection(t *testing.T) {
	h := gputest.NewHost()
	var reads atomic.Int32
	release := make(chan struct{})
	h.Device(0).GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) {
		reads.Add(1)
		<-release
		return 40, nvml.SUCCESS
	}
	c, _ := newCollector(t, h, nil)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := scrape(t, c); err != nil {
				t.Error(err)
			}
		})
	}
	// Every scrape is waiting on the same collection before it may finish.
	deadline := time.Now().Add(10 * time.Second)
	for reads.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("NVML read %d times for 10 concurrent scrapes, want 1", n)
	}
}

func TestHungNVMLDoesNotHoldTheScrape(t *testing.T) {
	h := gputest.NewHost()
	release := make(chan struct{})
	h.Device(1).GetPowerUsageFunc = func() (uint32, nvml.Return) { <-release; return 1, nvml.SUCCESS }
	c := New(h, Options{Timeout: 50 * time.Millisecond}, slog.New(slog.DiscardHandler))
	defer func() { close(release); c.Close() }()
	if _, err := scrape(t, c); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("err = %v, want the scrape to give up on NVML", err)
	}
}

func TestXIDEvents(t *testing.T) {
	h := gputest.NewHost()
	c, clock := newCollector(t, h, nil)
	if _, err := scrape(t, c); err != nil {
		t.Fatal(err)
	}
	uuid4, _ := h.Device(4).GetUUID()
	h.Events <- nvml.EventData{Device: h.Devices[4], EventType: nvml.EventTypeXidCriticalError, EventData: 79}
	deadline := time.Now().Add(10 * time.Second)
	for {
		clock.advance(3 * time.Second)
		ms, _ := scrape(t, c)
		if got := byUUID(ms["openclaw_gpu_xid_errors_total"], uuid4); len(got) == 1 && value(got[0]) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("XID event not counted: %v", ms["openclaw_gpu_xid_errors_total"])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricsDocumented(t *testing.T) {
	documented, err := metricsdoc.Names("../../docs/metrics.md", "### gpu")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newCollector(t, gputest.NewHost(), nil, Process{PID: 1000, Gateway: "default", Role: RoleGateway})
	ms, err := scrape(t, c)
	if err != nil {
		t.Fatal(err)
	}
	for name := range ms {
		if !documented[name] {
			t.Errorf("%s is exported but not in docs/metrics.md", name)
		}
	}
	for name := range documented {
		if _, ok := ms[name]; !ok {
			t.Errorf("%s is in docs/metrics.md but not exported", name)
		}
	}
}
