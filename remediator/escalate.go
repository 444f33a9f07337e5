package remediator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// escalate calls the notify webhook, if any, when a circuit opens.
func (r *Remediator) escalate(cfg *config.Config, inc *journal.Incident, ts *journal.Target) {
	msg := map[string]any{
		"event": "circuit_open", "target": inc.Target, "action": inc.Action, "incident": inc.ID,
		"alertname": inc.AlertName, "reason": ts.Reason, "openedAt": ts.OpenedAt,
	}
	if r.pageURL != nil {
		msg["incidentURL"] = r.pageURL(inc.ID) // where a person reads what was tried
	}
	r.notifyAsync(cfg, msg)
}

// notifyAsync posts msg to the notify webhook, if any, in the background.
func (r *Remediator) notifyAsync(cfg *config.Config, msg map[string]any) {
	r.mu.Lock()
	client := r.notify
	r.mu.Unlock()
	if cfg.Notify == nil || client == nil {
		return
	}
	body, _ := json.Marshal(msg)
	url := cfg.Notify.URL
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		req, err := http.NewRequestWithContext(r.ctx, http.MethodPost, url, bytes.NewReader(body))
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
			r.logger.Error("escalation notify failed", "err", err)
		}
	}()
}
