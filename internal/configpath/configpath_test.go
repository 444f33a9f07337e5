package configpath

import "testing"

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ p, dir, want string }{
		{"", "/etc/x", ""},
		{"~", "/etc/x", "/home/u"},
		{"~/a/b", "/etc/x", "/home/u/a/b"},
		{"/abs", "/etc/x", "/abs"},
		{"rel", "/etc/x", "/etc/x/rel"},
		{"rel", "", "rel"},
		{"~user/x", "/etc/x", "/etc/x/~user/x"},
	} {
		if got := Resolve(tc.p, tc.dir, "/home/u"); got != tc.want {
			t.Errorf("Resolve(%q, %q) = %q, want %q", tc.p, tc.dir, got, tc.want)
		}
	}
}
