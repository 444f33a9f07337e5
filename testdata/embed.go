// Package testdata holds fixtures; the files that ship inside the binaries
// (the default reasoning suite) are embedded here so that tests, the
// simulator and the exporter read the very same bytes.
package testdata

import _ "embed"

// DefaultReasoningSuite is reasoning/default.json: the suite the exporter runs
// when a model endpoint is configured without a suite file, and the one the
// simulator answers correctly.
//
//go:embed reasoning/default.json
var DefaultReasoningSuite []byte
