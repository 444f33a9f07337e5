package payload

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "alertmanager", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFixturesDecode(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "alertmanager", "*.json"))
	if len(files) < 4 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, f := range files {
		m, err := Parse(readFixture(t, filepath.Base(f)))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if m.Version != "4" || len(m.Alerts) == 0 || m.Alerts[0].Fingerprint == "" {
			t.Errorf("%s: %+v", f, m)
		}
	}
	m, _ := Parse(readFixture(t, "newer_alertmanager_fields.json"))
	if m.NotificationReason != "first_notification" || m.RouteLabels["receiver"] != "openclaw-remediator" {
		t.Errorf("newer fields lost: %+v", m.Data)
	}
}

func TestRejects(t *testing.T) {
	good := string(readFixture(t, "firing_gateway_hung.json"))
	for _, tc := range []struct {
		name, body, want string
	}{
		{"not json", `hello`, "invalid JSON"},
		{"truncated", good[:len(good)/2], "invalid JSON"},
		{"trailing", good + `{}`, "data after"},
		{"array", `[]`, "invalid JSON"},
		{"empty object", `{}`, "version"},
		{"version 3", strings.Replace(good, `"version": "4"`, `"version": "3"`, 1), "version"},
		{"version as number", strings.Replace(good, `"version": "4"`, `"version": 4`, 1), `field "version"`},
		{"alerts as object", strings.Replace(good, `"alerts": [`, `"alerts": {"x": [`, 1), "invalid JSON"},
		{"labels as list", strings.Replace(good, `"labels": {`, `"labels": ["x", {`, 1), "invalid JSON"},
		{"bad status", strings.Replace(good, `"status": "firing",
      "labels"`, `"status": "pending",
      "labels"`, 1), "alerts[0]: status"},
		{"no fingerprint", strings.Replace(good, `"fingerprint": "6f8b1a2c3d4e5f60"`, `"fingerprint": ""`, 1), "fingerprint"},
		{"control char in fingerprint", strings.Replace(good, `"fingerprint": "6f8b1a2c3d4e5f60"`, `"fingerprint": "6f8b\u0000"`, 1), "fingerprint"},
		{"no startsAt", strings.Replace(good, `"startsAt": "2026-11-20T22:41:07.118Z",`, ``, 1), "startsAt"},
		{"bad time", strings.Replace(good, `"startsAt": "2026-11-20T22:41:07.118Z"`, `"startsAt": "yesterday"`, 1), "invalid JSON"},
		{"no alerts", strings.Replace(good, `"alerts": [`, `"alerts": [], "x": [`, 1), "alerts: empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body))
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not bad input", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	good := readFixture(t, "firing_gateway_hung.json")
	if _, err := Decode(strings.NewReader(string(good)), int64(len(good))); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	_, err := Decode(strings.NewReader(string(good)), int64(len(good)-1))
	var perr *Error
	if !errors.As(err, &perr) || !perr.TooLarge {
		t.Fatalf("over the limit: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "alertmanager", "*.json"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte(`{"version":"4","status":"firing","alerts":[{}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Parse(body)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("non-input error %v", err)
			}
			return
		}
		// Whatever is accepted satisfies what the pipeline relies on.
		if m.Version != "4" || len(m.Alerts) == 0 {
			t.Fatalf("accepted %+v", m)
		}
		for _, a := range m.Alerts {
			if a.Fingerprint == "" || a.StartsAt.IsZero() || len(a.Labels) == 0 || (a.Status != "firing" && a.Status != "resolved") {
				t.Fatalf("accepted alert %+v", a)
			}
		}
	})
}
