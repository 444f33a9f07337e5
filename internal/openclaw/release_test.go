package openclaw

import "testing"

func TestCompareReleases(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2026.9.2", "2026.9.3", -1},
		{"2026.10.1", "2026.9.6", 1},
		{"2026.9.3", "v2026.9.3", 0},
		{"2026.9.3-beta.1", "2026.9.3", -1},
		{"2026.9.3-beta.2", "2026.9.3-beta.1", 1},
		{"2025.12.31", "2026.1.1", -1},
	} {
		if got, err := CompareReleases(tc.a, tc.b); err != nil || got != tc.want {
			t.Errorf("CompareReleases(%s, %s) = %d %v, want %d", tc.a, tc.b, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "2026.9", "latest", "2026.9.6; rm"} {
		if _, err := CompareReleases(bad, "2026.9.6"); err == nil {
			t.Errorf("CompareReleases(%q) accepted", bad)
		}
	}
}
