package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const stream = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestOK"}
{"Action":"output","Package":"p/a","Test":"TestOK","Output":"quiet when it passes\n"}
{"Action":"pass","Package":"p/a","Test":"TestOK","Elapsed":3.5}
{"Action":"run","Package":"p/a","Test":"TestBad"}
{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    a_test.go:9: want 1, got 2\n"}
{"Action":"fail","Package":"p/a","Test":"TestBad","Elapsed":0.25}
{"Action":"fail","Package":"p/a","Elapsed":4}
{"Action":"run","Package":"p/b","Test":"TestHung"}
{"Action":"output","Package":"p/b","Test":"TestHung","Output":"    waiting for the alert\n"}
vet: a line that is not an event
{"Action":"pass","Package":"p/c","Test":"TestSlow","Elapsed":61}
{"Action":"pass","Package":"p/c","Elapsed":62}
{"Action":"skip","Package":"p/d","Elapsed":0}
`

func TestFilter(t *testing.T) {
	saved := filepath.Join(t.TempDir(), "events.json")
	var out strings.Builder
	err := filter(strings.NewReader(stream), &out, saved)
	if err == nil {
		t.Error("filter passed a stream with a failed test")
	}
	got := out.String()
	for _, want := range []string{"a_test.go:9: want 1, got 2", "FAIL p/a 4.0s", "ok   p/c 62.0s",
		"vet: a line that is not an event", "?    p/d [no test files]", "TestHung, which did not end:\n    waiting for the alert"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "quiet when it passes") {
		t.Errorf("output has a passing test's output:\n%s", got)
	}

	out.Reset()
	if err := printSlowest(&out, 2, []string{saved}); err != nil {
		t.Fatal(err)
	}
	got = out.String()
	slow, ok, bad := strings.Index(got, "p/c TestSlow"), strings.Index(got, "p/a TestOK"), strings.Index(got, "TestBad")
	if slow < 0 || ok < 0 || slow > ok || bad >= 0 {
		t.Errorf("want the 2 slowest tests, slowest first (TestSlow, TestOK), not TestBad:\n%s", got)
	}
	if !strings.Contains(got, "62.0s  pass  p/c") || !strings.Contains(got, "4.0s  fail  p/a") {
		t.Errorf("want every package's time and result:\n%s", got)
	}
}

func TestFilterPasses(t *testing.T) {
	var out strings.Builder
	in := `{"Action":"pass","Package":"p/c","Test":"TestSlow","Elapsed":61}` + "\n" + `{"Action":"pass","Package":"p/c","Elapsed":62}` + "\n"
	if err := filter(strings.NewReader(in), &out, ""); err != nil {
		t.Errorf("filter failed a passing stream: %v\n%s", err, out.String())
	}
}

func TestSlowestNamesABadFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(file, []byte("{\"Action\":\"pass\"}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := printSlowest(&out, 5, []string{file}); err == nil || !strings.Contains(err.Error(), "bad.json:2") {
		t.Errorf("printSlowest(bad file) = %v, want an error naming bad.json:2", err)
	}
}
