//go:build linux && !clawwatch_portable

package openclaw

import (
	"errors"
	"os/exec"
	"testing"
)

// TestStatFileFollowsThePID: a StatFile reads what Stat reads, again on
// every Read through the file kept open, and reports a process that has
// exited as ErrNoProcess.
func TestStatFileFollowsThePID(t *testing.T) {
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	pid := child.Process.Pid
	sf := DefaultProcFS.OpenStat(pid)
	defer sf.Close()
	for range 3 {
		got, err := sf.Read()
		if err != nil {
			t.Fatal(err)
		}
		want, err := DefaultProcFS.Stat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if got.Comm != "sleep" || got.StartTime != want.StartTime || got.PPID != want.PPID || got.Threads != 1 || got.VSize == 0 {
			t.Fatalf("Read = %+v, Stat = %+v", got, want)
		}
	}
	if sf.f == nil {
		t.Fatal("the stat file was not kept open")
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	if st, err := sf.Read(); !errors.Is(err, ErrNoProcess) {
		t.Fatalf("after exit: %+v, %v; want ErrNoProcess", st, err)
	}
}
