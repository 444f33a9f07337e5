// Package auth guards the remediator's API. Alertmanager can present a
// bearer token (http_config.authorization.credentials_file), basic auth or a
// client certificate; the last two are exporter-toolkit's web config, the
// first is checked here. The remediator refuses to start with none of them.
package auth

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"

	"go.yaml.in/yaml/v2"
)

// Bearer checks "Authorization: Bearer <token>" against a token file, read
// at start and on Reload.
type Bearer struct {
	path  string
	mu    sync.RWMutex
	token []byte
}

// MinTokenBytes is the shortest bearer token accepted: a short one can be
// guessed by whoever reaches the port, and this one can ask for restarts.
const MinTokenBytes = 16

// NewBearer reads the token file; a token shorter than MinTokenBytes is an
// error.
func NewBearer(path string) (*Bearer, error) {
	b := &Bearer{path: path}
	return b, b.Reload()
}

// Reload re-reads the token file; on error the old token stays.
func (b *Bearer) Reload() error {
	data, err := os.ReadFile(b.path)
	if err != nil {
		return fmt.Errorf("bearer token file: %w", err)
	}
	tok := []byte(strings.TrimSpace(string(data)))
	if len(tok) == 0 {
		return fmt.Errorf("bearer token file %s is empty", b.path)
	}
	if len(tok) < MinTokenBytes {
		return fmt.Errorf("bearer token file %s: the token is %d bytes, at least %d are required (for example: openssl rand -hex 32)", b.path, len(tok), MinTokenBytes)
	}
	b.mu.Lock()
	b.token = tok
	b.mu.Unlock()
	return nil
}

// Check reports whether the request carries the token. The comparison takes
// the same time whatever the token.
func (b *Bearer) Check(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return b.Matches(strings.TrimSpace(tok))
}

// Matches reports whether tok is the current token, in constant time: the
// console's sign-in form and its sessions check a token this way.
func (b *Bearer) Matches(tok string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return subtle.ConstantTimeCompare([]byte(tok), b.token) == 1
}

// Wrap answers 401 to requests without the token. A nil Bearer lets all
// requests through (authentication is then exporter-toolkit's).
func (b *Bearer) Wrap(h http.Handler) http.Handler {
	if b == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !b.Check(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="openclaw-remediator"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"missing or wrong bearer token"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// webConfig is the part of exporter-toolkit's web config that authenticates
// clients.
type webConfig struct {
	TLS struct {
		ClientAuth string `yaml:"client_auth_type"`
	} `yaml:"tls_server_config"`
	Users map[string]string `yaml:"basic_auth_users"`
}

// WebConfigAuthenticates reports whether an exporter-toolkit web config file
// makes clients authenticate: basic auth users, or TLS that requires a
// verified client certificate.
func WebConfigAuthenticates(path string) (bool, error) {
	if path == "" {
		return false, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("web config: %w", err)
	}
	var c webConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return false, fmt.Errorf("web config %s: %w", path, err)
	}
	return len(c.Users) > 0 || c.TLS.ClientAuth == "RequireAndVerifyClientCert", nil
}

// ErrNoAuth is returned when the API would be open to anyone.
var ErrNoAuth = errors.New("no authentication configured: give --web.bearer-token-file, or basic_auth_users or client_auth_type: RequireAndVerifyClientCert in --web.config.file; --web.insecure-no-auth runs without (not for production)")
