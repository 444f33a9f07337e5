//go:build cgo

// Package gputest builds go-nvml mock hosts on which every NVML call the GPU
// collector makes is answered, for the collector's tests and for tests that
// need the GPU series a real host would register.
package gputest

import (
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxa100"
)

// Host is an 8×A100 mock host (go-nvml's dgxa100) with healthy readings. Its
// XID event set delivers what is sent on Events.
type Host struct {
	*dgxa100.Server
	Events chan nvml.EventData
}

// NewHost returns the mock host. Device i reports i% utilisation, 10 GiB
// used, 40+i °C, 100 W of a 400 W limit, 1410 MHz SM and 1215 MHz memory
// clocks, idle throttling, no ECC errors, and one compute process with pid
// 1000+i using 1 GiB.
func NewHost() *Host {
	h := &Host{Server: dgxa100.New(), Events: make(chan nvml.EventData, 16)}
	for i, dev := range h.Devices {
		d := dev.(*dgxa100.Device)
		d.MemoryInfo.Used = 10 << 30
		d.MemoryInfo.Free = d.MemoryInfo.Total - d.MemoryInfo.Used
		d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
			return nvml.Utilization{Gpu: uint32(i), Memory: uint32(i) / 2}, nvml.SUCCESS
		}
		d.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
			p := nvml.PciInfo{PciDeviceId: d.Config.PciDeviceId, Bus: uint32(i)}
			for j, c := range d.PciBusID {
				p.BusId[j] = int8(c)
			}
			return p, nvml.SUCCESS
		}
		d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return uint32(40 + i), nvml.SUCCESS }
		d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 100_000, nvml.SUCCESS }
		d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 400_000, nvml.SUCCESS }
		d.GetClockInfoFunc = func(t nvml.ClockType) (uint32, nvml.Return) {
			if t == nvml.CLOCK_MEM {
				return 1215, nvml.SUCCESS
			}
			return 1410, nvml.SUCCESS
		}
		d.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) { return nvml.ClocksEventReasonGpuIdle, nvml.SUCCESS }
		d.GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) { return 0, nvml.SUCCESS }
		d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) {
			return []nvml.ProcessInfo{{Pid: uint32(1000 + i), UsedGpuMemory: 1 << 30}}, nvml.SUCCESS
		}
		d.GetSupportedEventTypesFunc = func() (uint64, nvml.Return) {
			return nvml.EventTypeXidCriticalError | nvml.EventTypeSingleBitEccError, nvml.SUCCESS
		}
		d.RegisterEventsFunc = func(uint64, nvml.EventSet) nvml.Return { return nvml.SUCCESS }
	}
	h.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		return &mock.EventSet{
			WaitFunc: func(ms uint32) (nvml.EventData, nvml.Return) {
				// Blocks like nvmlEventSetWait: until an event or the timeout.
				t := time.NewTimer(time.Duration(ms) * time.Millisecond)
				defer t.Stop()
				select {
				case e := <-h.Events:
					return e, nvml.SUCCESS
				case <-t.C:
					return nvml.EventData{}, nvml.ERROR_TIMEOUT
				}
			},
			FreeFunc: func() nvml.Return { return nvml.SUCCESS },
		}, nvml.SUCCESS
	}
	return h
}

// Device returns the mock device with index i.
func (h *Host) Device(i int) *dgxa100.Device { return h.Devices[i].(*dgxa100.Device) }
