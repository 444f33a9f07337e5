// Package notify posts the remediator's escalations (a circuit that
// opened, an upgrade that stopped) to the operator's notify webhook.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	config_util "github.com/prometheus/common/config"

	"github.com/clawwatch/clawwatch/remediator/config"
)

// Notifier posts to the configured webhook in the background; Wait waits
// for what is in flight.
type Notifier struct {
	ctx    context.Context
	logger *slog.Logger
	wg     sync.WaitGroup

	mu     sync.Mutex
	url    string
	client *http.Client
}

// New posts until ctx ends.
func New(ctx context.Context, logger *slog.Logger) *Notifier {
	return &Notifier{ctx: ctx, logger: logger}
}

// Apply takes the webhook of a (re)loaded configuration; none turns
// escalations off.
func (n *Notifier) Apply(cfg *config.Config) error {
	var client *http.Client
	url := ""
	if cfg.Notify != nil {
		c, err := config_util.NewClientFromConfig(cfg.Notify.HTTPClientConfig, "openclaw-remediator-notify")
		if err != nil {
			return fmt.Errorf("notify: http_config: %w", err)
		}
		c.Timeout = time.Duration(cfg.Notify.Timeout)
		client, url = c, cfg.Notify.URL
	}
	n.mu.Lock()
	n.client, n.url = client, url
	n.mu.Unlock()
	return nil
}

// Send posts msg, if a webhook is configured, without waiting.
func (n *Notifier) Send(msg map[string]any) {
	n.mu.Lock()
	client, url := n.client, n.url
	n.mu.Unlock()
	if client == nil {
		return
	}
	body, _ := json.Marshal(msg)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		req, err := http.NewRequestWithContext(n.ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			n.logger.Error("escalation notify failed", "err", err)
		}
	}()
}

// Wait waits for the posts in flight, which end with the context.
func (n *Notifier) Wait() { n.wg.Wait() }
