// Package gpu collects NVIDIA GPU metrics through NVML (go-nvml). NVML needs
// cgo; without it the collector is a stub that reports itself unavailable.
//
// NVML is unforgiving: a call into a symbol the installed driver lacks, or any
// call after a failed Init, is an uncatchable SIGSEGV. So every entry point is
// looked up before use, ERROR_NOT_SUPPORTED means "no series", and lifecycle
// errors (GPU lost, driver gone) shut NVML down and re-initialise it later.
package gpu

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Process is a process whose GPU memory is reported: a gateway or the model
// server it uses.
type Process struct {
	PID     int
	Gateway string
	Role    string // RoleGateway or RoleModelServer
}

// Roles of a process.
const (
	RoleGateway     = "gateway"
	RoleModelServer = "model_server"
)

// Options tune the collector; zero values take the defaults.
type Options struct {
	// TTL is how long a collection is reused by later scrapes.
	TTL time.Duration
	// Timeout bounds how long a scrape waits for NVML; a slower collection
	// goes on in the background and the scrape reports a failure.
	Timeout time.Duration
	// RetryInterval is the first wait before NVML is initialised again after
	// it was unavailable or failed; it doubles up to MaxRetryInterval.
	RetryInterval    time.Duration
	MaxRetryInterval time.Duration
	// Processes returns the processes whose GPU memory is reported.
	Processes func() []Process
}

func (o Options) withDefaults() Options {
	if o.TTL <= 0 {
		o.TTL = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = 10 * time.Second
	}
	if o.MaxRetryInterval <= 0 {
		o.MaxRetryInterval = 5 * time.Minute
	}
	if o.Processes == nil {
		o.Processes = func() []Process { return nil }
	}
	return o
}

const nvmlUpHelp = "1 if NVML is initialised and sees at least one GPU; 0 without library, driver or GPU, or while re-initialising after a driver error."

var nvmlUpDesc = prometheus.NewDesc("openclaw_gpu_nvml_up", nvmlUpHelp, nil, nil)
