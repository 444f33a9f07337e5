package simtest

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// A port handed out stays reserved until its test ends, for every process on
// the machine; a reservation older than any test is taken over.
func TestReservePort(t *testing.T) {
	port := FreePort(t)
	if reservePort(t, port) {
		t.Fatalf("port %d reserved twice", port)
	}
	var inner int
	t.Run("ends", func(t *testing.T) { inner = FreePort(t) })
	if !reservePort(t, inner) {
		t.Errorf("port %d still reserved after its test ended", inner)
	}

	stale := FreePort(t)
	p := filepath.Join(portDir(), strconv.Itoa(stale))
	old := time.Now().Add(-portReservationTTL - time.Minute)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if !reservePort(t, stale) {
		t.Errorf("an expired reservation of port %d was not taken over", stale)
	}
}
