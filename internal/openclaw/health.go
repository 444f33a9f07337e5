package openclaw

// Healthz is the body of /health and /healthz: {"ok":true,"status":"live"}.
type Healthz struct {
	OK     bool   `json:"ok"`
	Status string `json:"status"`
}

// Readyz is the body of /ready and /readyz as local callers and holders of
// the gateway token see it; others may get only Ready.
type Readyz struct {
	Ready     bool       `json:"ready"`
	Failing   []string   `json:"failing"`
	UptimeMs  *float64   `json:"uptimeMs,omitempty"`
	EventLoop *EventLoop `json:"eventLoop,omitempty"`
}

// Readiness values the gateway puts into Readyz.Failing besides channel ids.
const (
	FailingStartupSidecars = "startup-sidecars"
	FailingDraining        = "gateway-draining"
)

// EventLoop is the event-loop health block of /readyz, measured inside the
// gateway over the last interval (cached for about a second).
type EventLoop struct {
	Degraded        bool          `json:"degraded"`
	DegradedSinceMs *float64      `json:"degradedSinceMs"`
	Reasons         []string      `json:"reasons"`
	IntervalMs      float64       `json:"intervalMs"`
	DelayP99Ms      float64       `json:"delayP99Ms"`
	DelayMaxMs      float64       `json:"delayMaxMs"`
	Utilization     float64       `json:"utilization"`
	CPUCoreRatio    float64       `json:"cpuCoreRatio"`
	CPUBreakdown    *CPUBreakdown `json:"cpuBreakdown,omitempty"`
}

// Values of EventLoop.Reasons.
const (
	ReasonEventLoopDelay       = "event_loop_delay"
	ReasonEventLoopUtilization = "event_loop_utilization"
	ReasonCPU                  = "cpu"
)

// The gateway's own degradation thresholds.
const (
	DegradedDelayMs     = 1000
	DegradedUtilization = 0.95
	DegradedCPURatio    = 0.9
)

// CPUBreakdown splits the gateway's CPU use by thread kind.
type CPUBreakdown struct {
	MainThreadCoreRatio   float64 `json:"mainThreadCoreRatio"`
	HostUtilization       float64 `json:"hostUtilization"`
	HostCPUCount          int     `json:"hostCpuCount"`
	WorkerCoreRatio       float64 `json:"workerCoreRatio"`
	OtherThreadsCoreRatio float64 `json:"otherThreadsCoreRatio"`
}
