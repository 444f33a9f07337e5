// Package buildinfo exports a binary's <program>_build_info: client_golang's
// version collector, plus the build date the Makefile stamps, which that
// collector leaves out.
package buildinfo

import (
	"github.com/prometheus/client_golang/prometheus"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
)

// Collector returns <program>_build_info labeled by version, revision, branch,
// build_date, goversion, goos, goarch and tags.
func Collector(program string) prometheus.Collector {
	return versioncollector.NewCollector(program,
		versioncollector.WithExtraConstLabels(prometheus.Labels{"build_date": version.BuildDate}))
}
