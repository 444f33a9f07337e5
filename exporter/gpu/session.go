//go:build cgo

package gpu

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/prometheus/client_golang/prometheus"
)

// The NVML entry points the collector may call, by the symbol it resolves
// to. Versioned variants (_v2, _v3) are chosen by go-nvml, which falls back
// to these base names, so the base names are what every driver must have.
const (
	symDriverVersion   = "nvmlSystemGetDriverVersion"
	symCudaVersion     = "nvmlSystemGetCudaDriverVersion"
	symCount           = "nvmlDeviceGetCount"
	symHandleByIndex   = "nvmlDeviceGetHandleByIndex"
	symUUID            = "nvmlDeviceGetUUID"
	symName            = "nvmlDeviceGetName"
	symIndex           = "nvmlDeviceGetIndex"
	symPciInfo         = "nvmlDeviceGetPciInfo"
	symMigMode         = "nvmlDeviceGetMigMode"
	symUtilization     = "nvmlDeviceGetUtilizationRates"
	symMemoryInfo      = "nvmlDeviceGetMemoryInfo"
	symTemperature     = "nvmlDeviceGetTemperature"
	symPowerUsage      = "nvmlDeviceGetPowerUsage"
	symPowerLimit      = "nvmlDeviceGetEnforcedPowerLimit"
	symClockInfo       = "nvmlDeviceGetClockInfo"
	symEventReasons    = "nvmlDeviceGetCurrentClocksEventReasons"
	symThrottleReasons = "nvmlDeviceGetCurrentClocksThrottleReasons"
	symEccErrors       = "nvmlDeviceGetTotalEccErrors"
	symProcesses       = "nvmlDeviceGetComputeRunningProcesses"
	symEventSetCreate  = "nvmlEventSetCreate"
	symEventTypes      = "nvmlDeviceGetSupportedEventTypes"
	symRegisterEvents  = "nvmlDeviceRegisterEvents"
	symEventSetWait    = "nvmlEventSetWait"
	symEventSetFree    = "nvmlEventSetFree"
)

var symbols = []string{
	symDriverVersion, symCudaVersion, symCount, symHandleByIndex, symUUID, symName, symIndex, symPciInfo,
	symMigMode, symUtilization, symMemoryInfo, symTemperature, symPowerUsage, symPowerLimit, symClockInfo,
	symEventReasons, symThrottleReasons, symEccErrors, symProcesses, symEventSetCreate, symEventTypes,
	symRegisterEvents, symEventSetWait, symEventSetFree,
}

// Throttle reasons, a fixed label set (the bits of nvmlClocksEventReasons).
var throttleReasons = []struct {
	bit    uint64
	reason string
}{
	{nvml.ClocksEventReasonGpuIdle, "gpu_idle"},
	{nvml.ClocksEventReasonApplicationsClocksSetting, "applications_clocks_setting"},
	{nvml.ClocksEventReasonSwPowerCap, "sw_power_cap"},
	{nvml.ClocksThrottleReasonHwSlowdown, "hw_slowdown"},
	{nvml.ClocksEventReasonSyncBoost, "sync_boost"},
	{nvml.ClocksEventReasonSwThermalSlowdown, "sw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwThermalSlowdown, "hw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwPowerBrakeSlowdown, "hw_power_brake_slowdown"},
	{nvml.ClocksEventReasonDisplayClockSetting, "display_clock_setting"},
}

var (
	infoDesc = prometheus.NewDesc("openclaw_gpu_info", "1 for each GPU, with its attributes; join on uuid.",
		[]string{"uuid", "index", "name", "driver_version", "cuda_version", "pci_bus_id"}, nil)
	utilDesc = prometheus.NewDesc("openclaw_gpu_utilization_ratio",
		"Share of the last sample period in which a kernel ran on the GPU.", []string{"uuid"}, nil)
	memUtilDesc = prometheus.NewDesc("openclaw_gpu_memory_utilization_ratio",
		"Share of the last sample period in which device memory was read or written.", []string{"uuid"}, nil)
	memUsedDesc = prometheus.NewDesc("openclaw_gpu_memory_used_bytes",
		"Device memory in use.", []string{"uuid"}, nil)
	memTotalDesc = prometheus.NewDesc("openclaw_gpu_memory_total_bytes",
		"Device memory installed.", []string{"uuid"}, nil)
	tempDesc = prometheus.NewDesc("openclaw_gpu_temperature_celsius",
		"GPU core temperature.", []string{"uuid"}, nil)
	powerDesc = prometheus.NewDesc("openclaw_gpu_power_watts",
		"Power draw of the GPU and its memory.", []string{"uuid"}, nil)
	powerLimitDesc = prometheus.NewDesc("openclaw_gpu_power_limit_watts",
		"Power limit the driver enforces.", []string{"uuid"}, nil)
	clockDesc = prometheus.NewDesc("openclaw_gpu_clock_hertz",
		"Current clock by domain (sm, memory).", []string{"uuid", "clock"}, nil)
	throttleDesc = prometheus.NewDesc("openclaw_gpu_throttle_active",
		"1 for each reason the clocks are held down now.", []string{"uuid", "reason"}, nil)
	eccDesc = prometheus.NewDesc("openclaw_gpu_ecc_errors_total",
		"ECC memory errors over the GPU's life (aggregate counter), by type.", []string{"uuid", "type"}, nil)
	xidDesc = prometheus.NewDesc("openclaw_gpu_xid_errors_total",
		"XID critical error events seen since the exporter started (needs a driver with event sets).", []string{"uuid"}, nil)
	procMemDesc = prometheus.NewDesc("openclaw_gpu_process_memory_used_bytes",
		"GPU memory used by a watched process: a gateway or its model server.", []string{"uuid", "gateway", "process"}, nil)
)

// session is one NVML initialisation: the symbols it has, the devices it saw
// and the XID watcher. It is closed as a whole after a lifecycle error.
type session struct {
	lib     nvml.Interface
	has     map[string]bool
	driver  string
	cuda    string
	devices []*device
	xid     *xidWatcher
}

type device struct {
	handle nvml.Device
	uuid   string
	mig    bool // MIG enabled: utilisation is per instance, not per GPU
	info   prometheus.Metric
}

// open initialises NVML and discovers the GPUs. After an error nothing is
// left initialised.
func open(lib nvml.Interface, logger *slog.Logger, onXID func(uuid string)) (_ *session, err error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		if ret == nvml.ERROR_LIBRARY_NOT_FOUND || ret == nvml.ERROR_DRIVER_NOT_LOADED || ret == nvml.ERROR_NO_PERMISSION {
			return nil, fmt.Errorf("%w: NVML init: %s", errUnavailable, nvml.ErrorString(ret))
		}
		return nil, fmt.Errorf("NVML init: %s", nvml.ErrorString(ret))
	}
	s := &session{lib: lib, has: map[string]bool{}}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	for _, sym := range symbols {
		s.has[sym] = lib.Extensions().LookupSymbol(sym) == nil
	}
	for _, sym := range []string{symCount, symHandleByIndex, symUUID} {
		if !s.has[sym] {
			return nil, fmt.Errorf("%w: the NVML library lacks %s", errUnavailable, sym)
		}
	}
	if s.has[symDriverVersion] {
		s.driver, _ = lib.SystemGetDriverVersion()
	}
	if s.has[symCudaVersion] {
		if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS {
			s.cuda = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
		}
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, &nvmlError{"device count", ret}
	}
	for i := range n {
		d, err := s.discover(i)
		if err != nil {
			var ne *nvmlError
			if errors.As(err, &ne) && lifecycleErrors[ne.ret] {
				return nil, err
			}
			// A GPU NVML cannot handle (too old, no permission, being
			// reset) is skipped, not fatal for the others.
			logger.Info("GPU skipped", "index", i, "err", err)
			continue
		}
		s.devices = append(s.devices, d)
	}
	if len(s.devices) == 0 {
		return nil, fmt.Errorf("%w: NVML sees no GPU it can read", errUnavailable)
	}
	s.xid = s.watchXID(logger, onXID)
	return s, nil
}

func (s *session) discover(i int) (*device, error) {
	h, ret := s.lib.DeviceGetHandleByIndex(i)
	if ret != nvml.SUCCESS {
		return nil, &nvmlError{"device handle", ret}
	}
	uuid, ret := h.GetUUID()
	if ret != nvml.SUCCESS {
		return nil, &nvmlError{"device uuid", ret}
	}
	d := &device{handle: h, uuid: uuid}
	index := strconv.Itoa(i)
	if s.has[symIndex] {
		if v, ret := h.GetIndex(); ret == nvml.SUCCESS {
			index = strconv.Itoa(v)
		}
	}
	var name, bus string
	if s.has[symName] {
		name, _ = h.GetName()
	}
	if s.has[symPciInfo] {
		if pci, ret := h.GetPciInfo(); ret == nvml.SUCCESS {
			bus = cString(pci.BusId[:])
		}
	}
	if s.has[symMigMode] {
		if cur, _, ret := h.GetMigMode(); ret == nvml.SUCCESS {
			d.mig = cur == nvml.DEVICE_MIG_ENABLE
		}
	}
	d.info = prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, uuid, index, name, s.driver, s.cuda, bus)
	return d, nil
}

func cString[T int8 | uint8](b []T) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}

// read collects one device. ERROR_NOT_SUPPORTED leaves the series out; other
// failures of a field are returned in errs; a lifecycle error ends the
// session.
func (s *session) read(d *device, procs map[uint32]Process, xids uint64) (ms []prometheus.Metric, errs []string, lifecycle error) {
	h := d.handle
	ms = append(ms, d.info)
	// check sorts one return: true when the value can be used.
	check := func(field string, ret nvml.Return) bool {
		switch {
		case ret == nvml.SUCCESS:
			return true
		case ret == nvml.ERROR_NOT_SUPPORTED || ret == nvml.ERROR_FUNCTION_NOT_FOUND:
		case lifecycleErrors[ret]:
			if lifecycle == nil {
				lifecycle = &nvmlError{d.uuid + " " + field, ret}
			}
		default:
			errs = append(errs, fmt.Sprintf("%s %s: %s", d.uuid, field, nvml.ErrorString(ret)))
		}
		return false
	}
	gauge := func(desc *prometheus.Desc, v float64, labels ...string) {
		ms = append(ms, prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append([]string{d.uuid}, labels...)...))
	}

	if s.has[symUtilization] && !d.mig {
		if u, ret := h.GetUtilizationRates(); check("utilization", ret) {
			gauge(utilDesc, float64(u.Gpu)/100)
			gauge(memUtilDesc, float64(u.Memory)/100)
		}
	}
	if s.has[symMemoryInfo] {
		if m, ret := h.GetMemoryInfo(); check("memory", ret) {
			gauge(memUsedDesc, float64(m.Used))
			gauge(memTotalDesc, float64(m.Total))
		}
	}
	if s.has[symTemperature] {
		if t, ret := h.GetTemperature(nvml.TEMPERATURE_GPU); check("temperature", ret) {
			gauge(tempDesc, float64(t))
		}
	}
	if s.has[symPowerUsage] {
		if p, ret := h.GetPowerUsage(); check("power", ret) {
			gauge(powerDesc, float64(p)/1000)
		}
	}
	if s.has[symPowerLimit] {
		if p, ret := h.GetEnforcedPowerLimit(); check("power limit", ret) {
			gauge(powerLimitDesc, float64(p)/1000)
		}
	}
	if s.has[symClockInfo] {
		for _, clk := range []struct {
			typ  nvml.ClockType
			name string
		}{{nvml.CLOCK_SM, "sm"}, {nvml.CLOCK_MEM, "memory"}} {
			if mhz, ret := h.GetClockInfo(clk.typ); check(clk.name+" clock", ret) {
				gauge(clockDesc, float64(mhz)*1e6, clk.name)
			}
		}
	}
	var reasons uint64
	ret := nvml.ERROR_NOT_SUPPORTED
	switch {
	case s.has[symEventReasons]: // the current name; the throttle one is deprecated
		reasons, ret = h.GetCurrentClocksEventReasons()
	case s.has[symThrottleReasons]:
		reasons, ret = h.GetCurrentClocksThrottleReasons()
	}
	if check("throttle reasons", ret) {
		for _, r := range throttleReasons {
			v := 0.0
			if reasons&r.bit != 0 {
				v = 1
			}
			gauge(throttleDesc, v, r.reason)
		}
	}
	if s.has[symEccErrors] {
		for _, e := range []struct {
			typ  nvml.MemoryErrorType
			name string
		}{{nvml.MEMORY_ERROR_TYPE_CORRECTED, "corrected"}, {nvml.MEMORY_ERROR_TYPE_UNCORRECTED, "uncorrected"}} {
			if n, ret := h.GetTotalEccErrors(e.typ, nvml.AGGREGATE_ECC); check("ecc "+e.name, ret) {
				ms = append(ms, prometheus.MustNewConstMetric(eccDesc, prometheus.CounterValue, float64(n), d.uuid, e.name))
			}
		}
	}
	if s.xid != nil && s.xid.watches(d.uuid) {
		ms = append(ms, prometheus.MustNewConstMetric(xidDesc, prometheus.CounterValue, float64(xids), d.uuid))
	}
	if s.has[symProcesses] && len(procs) > 0 {
		if ps, ret := h.GetComputeRunningProcesses(); check("processes", ret) {
			// Summed per watched process, so the label set stays bounded
			// by the configuration, whatever runs on the GPU.
			used := map[Process]float64{}
			for _, p := range ps {
				if w, ok := procs[p.Pid]; ok {
					used[Process{Gateway: w.Gateway, Role: w.Role}] += float64(p.UsedGpuMemory)
				}
			}
			for p, v := range used {
				gauge(procMemDesc, v, p.Gateway, p.Role)
			}
		}
	}
	return ms, errs, lifecycle
}

// close stops the watcher before NVML goes away: a wait on a freed event set
// would crash the process.
func (s *session) close() {
	if s.xid != nil {
		s.xid.stop()
		s.xid = nil
	}
	s.lib.Shutdown()
}

// xidWatcher counts XID critical errors from an NVML event set in its own
// goroutine. It is only started when every symbol it needs exists.
type xidWatcher struct {
	set     nvml.EventSet
	uuids   map[string]bool
	byDev   map[nvml.Device]string
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// How long one EventSetWait blocks; it bounds how long closing takes.
const xidWaitMs = 500

func (s *session) watchXID(logger *slog.Logger, onXID func(uuid string)) *xidWatcher {
	for _, sym := range []string{symEventSetCreate, symEventTypes, symRegisterEvents, symEventSetWait, symEventSetFree} {
		if !s.has[sym] {
			return nil
		}
	}
	set, ret := s.lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		logger.Info("XID events unavailable", "err", nvml.ErrorString(ret))
		return nil
	}
	w := &xidWatcher{set: set, uuids: map[string]bool{}, byDev: map[nvml.Device]string{},
		done: make(chan struct{}), stopped: make(chan struct{})}
	for _, d := range s.devices {
		types, ret := d.handle.GetSupportedEventTypes()
		if ret != nvml.SUCCESS || types&xidEvent == 0 {
			continue
		}
		if d.handle.RegisterEvents(xidEvent, set) == nvml.SUCCESS {
			w.uuids[d.uuid] = true
			w.byDev[d.handle] = d.uuid
		}
	}
	if len(w.uuids) == 0 {
		set.Free()
		return nil
	}
	go w.run(onXID)
	return w
}

func (w *xidWatcher) watches(uuid string) bool { return w.uuids[uuid] }

func (w *xidWatcher) run(onXID func(uuid string)) {
	defer close(w.stopped)
	for {
		select {
		case <-w.done:
			return
		default:
		}
		data, ret := w.set.Wait(xidWaitMs)
		switch {
		case ret == nvml.SUCCESS && data.EventType&xidEvent != 0:
			if uuid, ok := w.byDev[data.Device]; ok {
				onXID(uuid)
			}
		case lifecycleErrors[ret]:
			return // the next collection finds the same error and starts over
		}
	}
}

func (w *xidWatcher) stop() {
	w.once.Do(func() {
		close(w.done)
		<-w.stopped
		w.set.Free()
	})
}

// nvmlError wraps a Return with what was being done.
type nvmlError struct {
	call string
	ret  nvml.Return
}

func (e *nvmlError) Error() string { return e.call + ": " + nvml.ErrorString(e.ret) }

// errUnavailable marks the expected absences: no library, no driver, no GPU.
var errUnavailable = errors.New("no usable NVIDIA GPU")

// lifecycleErrors are the returns after which NVML must be shut down and
// initialised again.
var lifecycleErrors = map[nvml.Return]bool{
	nvml.ERROR_UNINITIALIZED:           true,
	nvml.ERROR_DRIVER_NOT_LOADED:       true,
	nvml.ERROR_GPU_IS_LOST:             true,
	nvml.ERROR_LIB_RM_VERSION_MISMATCH: true,
	nvml.ERROR_LIBRARY_NOT_FOUND:       true,
	nvml.ERROR_RESET_REQUIRED:          true,
}

const xidEvent = uint64(nvml.EventTypeXidCriticalError)
