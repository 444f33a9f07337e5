//go:build !linux

package fulldisk

import (
	"os"
	"testing"
)

// Mount: a tmpfs is Linux's; the tests that fill a disk run on Linux.
func Mount(t testing.TB, _ string) string {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal("a tmpfs to fill needs Linux")
	}
	t.Skip("a tmpfs to fill needs Linux")
	return ""
}

// Fill: see Mount.
func Fill(t testing.TB, _ string) string {
	t.Helper()
	t.Fatal("a tmpfs to fill needs Linux")
	return ""
}
