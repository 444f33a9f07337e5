package configpath

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

type bytesT int64

func TestRangeCheck(t *testing.T) {
	workers := Count("workers", 1, 256)
	size := Size("webhook_body_limit", bytesT(1<<10), bytesT(256<<20))
	every := Duration("targets[].verify.interval", time.Millisecond, time.Minute)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{workers.Check(1), ""},
		{workers.Check(256), ""},
		{workers.Check(1000000000), "workers: 1000000000 is out of range [1, 256]"},
		{workers.Check(0), "workers: 0 is out of range [1, 256]; leave the key out for the default"},
		{workers.Check(-3), "workers: -3 is out of range [1, 256]"},
		{size.Check(100 << 30), "webhook_body_limit: 100GiB is out of range [1KiB, 256MiB]"},
		{size.Check(4 << 20), ""},
		{every.Check(model.Duration(time.Hour)), "verify.interval: 1h is out of range [1ms, 1m]"},
		{every.Check(model.Duration(-time.Second)), "verify.interval: -1s is out of range [1ms, 1m]"},
		{Count[int64]("uid", 0, 1<<32-2).In("gateways[]").Check(1 << 40), "uid: 1099511627776 is out of range [0, 4294967294]"},
	} {
		got := ""
		if tc.err != nil {
			got = tc.err.Error()
		}
		if got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	if p := every.Path(); p != "targets[].verify.interval" {
		t.Errorf("path %q", p)
	}
	if b := Duration("journal.retention", 24*time.Hour, 2*365*24*time.Hour).Bounds(); b != "[1d, 2y]" {
		t.Errorf("bounds %q", b)
	}
}

// TestUnmarshalStrictMessages: yaml's errors name Go types; what reaches
// the operator names keys, lines and YAML's kinds instead.
func TestUnmarshalStrictMessages(t *testing.T) {
	type section struct {
		N     int      `yaml:"n"`
		F     float64  `yaml:"f"`
		On    bool     `yaml:"on"`
		Argv  []string `yaml:"argv"`
		Inner struct {
			S string `yaml:"s"`
		} `yaml:"inner"`
		M    map[string]string `yaml:"m"`
		D    model.Duration    `yaml:"d"`
		Wait model.Duration    `yaml:"wait"`
	}
	for _, tc := range []struct{ yaml, want string }{
		{"bogus: 1\n", "line 1: unknown key bogus"},
		{"n: 1\nn: 2\n", `line 2: key "n" is written twice`},
		{"m: {a: b, a: c}\n", `line 1: key "a" is written twice`},
		{"n: abc\n", `line 1: cannot read "abc" as a whole number`},
		{"n: [1]\n", "line 1: cannot read a list as a whole number"},
		{"f: x\n", `line 1: cannot read "x" as a number`},
		{"on: maybe\n", `line 1: cannot read "maybe" as true or false`},
		{"argv: x\n", `line 1: cannot read "x" as a list`},
		{"inner: 5\n", "line 1: cannot read 5 as a mapping"},
		{"m: [a]\n", "line 1: cannot read a list as a mapping"},
		{"- 1\n", "line 1: cannot read a list as a mapping"},
		{"bogus: 1\nn: x\n", `line 1: unknown key bogus; line 2: cannot read "x" as a whole number`},
		{"d: 1s\nwait: -5s\n", `line 2: not a valid duration string: "-5s"`},
		{"d: -5s\nwait: -5s\n", `not a valid duration string: "-5s"`}, // which line is not known
		{"d: [1s]\n", "line 1: cannot read a list as a string"},
	} {
		var s section
		err := UnmarshalStrict([]byte(tc.yaml), &s)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %q", tc.yaml, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "type ") || strings.Contains(err.Error(), "configpath.") || strings.Contains(err.Error(), "!!")) {
			t.Errorf("%q: %v names a Go type or a YAML tag", tc.yaml, err)
		}
	}
}
