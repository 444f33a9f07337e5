package auth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBearer(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	const tok = "abc-0123456789abcdef"
	os.WriteFile(p, []byte(tok+"\n"), 0o600)
	b, err := NewBearer(p)
	if err != nil {
		t.Fatal(err)
	}
	h := b.Wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer " + tok, 200}, {"bearer " + tok, 200}, {"Bearer abd-0123456789abcdef", 401}, {"Bearer ", 401}, {"", 401},
		{"Basic " + tok, 401}, {"Bearer " + tok + tok, 401}, {"Bearer abc", 401},
	} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/alerts", nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%q: %d, want %d", tc.header, rec.Code, tc.want)
		}
	}
	os.WriteFile(p, []byte(""), 0o600)
	if err := b.Reload(); err == nil {
		t.Error("empty token accepted")
	}
	os.WriteFile(p, []byte("x\n"), 0o600)
	if err := b.Reload(); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("one-character token: %v; want an error naming the file and the minimum", err)
	}
	if !b.Check(func() *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}()) {
		t.Error("a failed reload dropped the old token")
	}
}

func TestWebConfigAuthenticates(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		yaml string
		want bool
	}{
		{"basic_auth_users:\n  alertmanager: $2y$10$abcdefghijklmnopqrstuv\n", true},
		{"tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: RequireAndVerifyClientCert\n", true},
		{"tls_server_config:\n  cert_file: c\n  key_file: k\n", false},
		{"tls_server_config:\n  client_auth_type: RequestClientCert\n", false},
	} {
		p := filepath.Join(dir, "web.yml")
		os.WriteFile(p, []byte(tc.yaml), 0o600)
		got, err := WebConfigAuthenticates(p)
		if err != nil || got != tc.want {
			t.Errorf("%s: %v %v", tc.yaml, got, err)
		}
	}
	if got, err := WebConfigAuthenticates(""); got || err != nil {
		t.Error("no file authenticates")
	}
}
