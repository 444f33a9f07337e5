//go:build !cgo

package mixin

import (
	"fmt"
	"testing"
)

// gpuSeries needs cgo: the GPU collector and its mock host are cgo-only.
func gpuSeries(*testing.T, []string) (map[string]bool, error) {
	return nil, fmt.Errorf("%w: the GPU collector needs cgo", errUnverified)
}
