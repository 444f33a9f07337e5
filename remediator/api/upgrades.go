package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/clawwatch/clawwatch/remediator/journal"
	"github.com/clawwatch/clawwatch/remediator/upgrade"
)

// upgradeRoutes serves guarded upgrades:
//
//	POST /api/v1/upgrades?to=&targets=a,b&batch_size=&dry_run=
//	                                 start one (202), or the plan (200, dry run),
//	                                 or a refusal, journaled (200, state refused)
//	GET  /api/v1/upgrades            {"upgrades":[…]}, the latest first
//	GET  /api/v1/upgrades/{id}
func (a *API) upgradeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/upgrades", a.startUpgrade)
	mux.HandleFunc("GET /api/v1/upgrades", func(w http.ResponseWriter, _ *http.Request) {
		ups, err := a.upgrades.List()
		if err != nil {
			httpError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		if ups == nil {
			ups = []*journal.Upgrade{}
		}
		writeJSON(w, map[string]any{"upgrades": ups})
	})
	mux.HandleFunc("GET /api/v1/upgrades/{id}", func(w http.ResponseWriter, req *http.Request) {
		u, err := a.upgrades.Get(req.PathValue("id"))
		switch {
		case errors.Is(err, journal.ErrUpgradeNotFound):
			httpError(w, http.StatusNotFound, err.Error())
		case err != nil:
			httpError(w, http.StatusServiceUnavailable, err.Error())
		default:
			writeJSON(w, u)
		}
	})
}

func (a *API) startUpgrade(w http.ResponseWriter, req *http.Request) {
	q := req.URL.Query()
	ur := upgrade.Request{To: q.Get("to")}
	if s := q.Get("targets"); s != "" {
		ur.Targets = strings.Split(s, ",")
	}
	if s := q.Get("batch_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			httpError(w, http.StatusBadRequest, "batch_size: not a positive integer")
			return
		}
		ur.BatchSize = n
	}
	if s := q.Get("dry_run"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			httpError(w, http.StatusBadRequest, "dry_run: not a boolean")
			return
		}
		ur.DryRun = b
	}
	u, err := a.upgrades.Start(req.Context(), ur)
	switch {
	case errors.Is(err, upgrade.ErrBadRequest):
		httpError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, upgrade.ErrRunning):
		httpError(w, http.StatusConflict, err.Error())
	case err != nil:
		httpError(w, http.StatusServiceUnavailable, err.Error())
	default:
		if u.Active() { // started; a plan or a refusal is complete
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
		}
		writeJSON(w, u)
	}
}
