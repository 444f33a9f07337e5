package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/clawwatch/clawwatch/remediator/payload"
)

// receive is POST /api/v1/alerts. It answers 200 once the delivery is on
// disk, 4xx with a reason for bad input (not retried by Alertmanager), and
// 503 only when the journal fails (retried, which is what we want then).
func (a *API) receive(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	defer func() { a.ackDuration.Observe(time.Since(start).Seconds()) }()
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	msg, err := payload.Decode(req.Body, int64(a.config().BodyLimit))
	if err != nil {
		var perr *payload.Error
		code := http.StatusBadRequest
		if errors.As(err, &perr) && perr.TooLarge {
			code = http.StatusRequestEntityTooLarge
		}
		a.logger.Warn("webhook rejected", "remote", req.RemoteAddr, "code", code, "reason", err)
		httpError(w, code, err.Error())
		return
	}
	ack, err := a.incidents.Admit(msg)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "journal unavailable; retry")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ack)
}
