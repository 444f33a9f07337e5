package process

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// fdsUnreported says once why open_fds is absent (macOS without cgo).
var fdsUnreported sync.Once

// updateHost reports the process where there is no /proc (macOS, Windows,
// or Linux built with clawwatch_portable): through the operating system's
// own interfaces (openclaw.HostUsage). The soft descriptor limit and the
// cgroup's memory limit are /proc's and not reported; open descriptors are
// not reported where the platform does not count another process's without
// cgo (macOS), which the README's platform table says.
func (c *Collector) updateHost(ch chan<- prometheus.Metric) error {
	name := c.t.Config.Name
	id, _, err := c.t.Process()
	if found, err := c.found(ch, id, err); !found {
		return err
	}
	u, err := openclaw.HostUsage(id.PID)
	if errors.Is(err, openclaw.ErrNoProcess) {
		ch <- c.metrics.Gauge(upDesc, 0, name)
		return nil // exited since discovery
	}
	if err != nil {
		return err
	}
	fds, fdsErr := c.t.Procs.OpenFDs(id.PID)
	if errors.Is(fdsErr, openclaw.ErrNoProcess) {
		ch <- c.metrics.Gauge(upDesc, 0, name)
		return nil
	}
	ch <- c.metrics.Gauge(upDesc, 1, name)
	if is, ok := c.isGateway(id); ok {
		ch <- c.metrics.Gauge(isGatewayDesc, is, name)
	}
	if fdsErr == nil {
		ch <- c.metrics.Gauge(openFDsDesc, float64(fds), name)
	} else {
		fdsUnreported.Do(func() {
			c.t.Logger.Info("open descriptors of the gateway are not reported on this platform", "pid", id.PID, "err", fdsErr)
		})
	}
	ch <- c.metrics.Gauge(residentDesc, float64(u.ResidentBytes), name)
	ch <- c.metrics.Gauge(virtualDesc, float64(u.VirtualBytes), name)
	ch <- c.metrics.Counter(cpuDesc, u.CPUSeconds, name)
	ch <- c.metrics.Gauge(threadsDesc, float64(u.Threads), name)
	ch <- c.metrics.Gauge(startDesc, u.StartSeconds, name)
	if limit := c.t.Config.MemoryLimitBytes; limit > 0 {
		ch <- c.metrics.Gauge(memLimitDesc, float64(limit), name)
	}
	return c.tcpConnections(ch, id)
}
