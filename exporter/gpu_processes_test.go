//go:build cgo

package exporter_test

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"testing"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/clawwatch/clawwatch/exporter"
	"github.com/clawwatch/clawwatch/exporter/config"
	"github.com/clawwatch/clawwatch/exporter/gpu"
	"github.com/clawwatch/clawwatch/exporter/gpu/gputest"
	"github.com/clawwatch/clawwatch/exporter/target/targettest"
)

// TestModelServerGPUMemory: the model server of a loopback model URL (this
// test process plays llama-server) is found by its port, and the GPU memory
// of its process is reported with process="model_server".
func TestModelServerGPUMemory(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := config.Parse(fmt.Appendf(nil, `
gateways:
  - name: home
    url: http://127.0.0.1:1
    state_dir: %s
    log_dir: %s
    models:
      - name: qwen
        url: http://%s
        health_path: ""
        suites: []
`, t.TempDir(), t.TempDir(), ln.Addr()), "")
	if err != nil {
		t.Fatal(err)
	}
	exp, err := exporter.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	// (The gateway itself may be found by title among other simulators on
	// a shared test host; only the model server matters here.)
	procs := exp.GPUProcesses()
	want := gpu.Process{PID: os.Getpid(), Gateway: "home", Role: gpu.RoleModelServer}
	if !slices.Contains(procs, want) {
		t.Fatalf("GPUProcesses = %+v, want %+v among them", procs, want)
	}

	host := gputest.NewHost()
	host.Device(3).GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
		return []nvml.ProcessInfo{{Pid: uint32(os.Getpid()), UsedGpuMemory: 7 << 30}, {Pid: 1, UsedGpuMemory: 1 << 30}}, nvml.SUCCESS
	}
	c := gpu.New(host, gpu.Options{Processes: exp.GPUProcesses}, slog.New(slog.DiscardHandler))
	defer c.Close()
	got, err := targettest.Collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	uuid, _ := host.Device(3).GetUUID()
	// (targettest leaves the gateway label out of the key.)
	key := fmt.Sprintf("openclaw_gpu_process_memory_used_bytes{process=model_server,uuid=%s}", uuid)
	if got[key] != 7<<30 {
		t.Fatalf("%s = %v, want 7 GiB", key, got[key])
	}
}
