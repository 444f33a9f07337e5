package openclaw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The gateway's own upgrade preflights, as its CLI reports them with
// --json (docs/openclaw.md, "The previous package, and what the preflights
// print"): `openclaw update --tag V --dry-run --json` and `openclaw doctor
// --lint --json`. Their exit status is not their verdict: a dry run that
// will not update exits 0, and doctor exits 1 on warnings unless asked for
// --severity-min error, as the updater itself runs it.

// UpdateReport is the part of `openclaw update --json` (a dry run's too)
// that says whether the updater would go ahead. A dry run that plans has
// no status: its currentVersion, targetVersion and actions say what it
// would do (testdata/update-dry-run-plan.json); one that would not act has
// a status and the facts that stopped it (update-dry-run-skipped.json).
type UpdateReport struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	Mode   string `json:"mode"`
	Steps  []struct {
		Name         string `json:"name"`
		FailureFacts []struct {
			Check   string `json:"check"`
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"failureFacts"`
	} `json:"steps"`
	Notes               []string `json:"notes"`
	CurrentVersion      string   `json:"currentVersion"`
	TargetVersion       *string  `json:"targetVersion"`
	TargetVersionReason string   `json:"targetVersionReason"`
	Actions             []string `json:"actions"`
	DowngradeRisk       bool     `json:"downgradeRisk"`
	Before              struct {
		Version string `json:"version"`
	} `json:"before"`
}

// UpdateReportKeys are keys one of which every update report has.
var UpdateReportKeys = []string{"status", "dryRun", "actions"}

// refusingUpdateStatuses are the statuses under which the updater changes
// nothing: "skipped" (it could not tell how the gateway was installed, or
// a container image owns it) and "error" (a preflight of its own refused,
// e.g. database-schema-preflight).
var refusingUpdateStatuses = map[string]bool{"skipped": true, "error": true}

// Refusal says in the updater's own words why it would not update, or ""
// when it would. An unresolved target version, or a note "Would refuse
// update" (no Node runtime the target release can use), refuses too.
func (u *UpdateReport) Refusal() string {
	var why []string
	if refusingUpdateStatuses[u.Status] {
		why = append(why, fmt.Sprintf("status %s (%s)", u.Status, u.Reason))
		for _, s := range u.Steps {
			for _, f := range s.FailureFacts {
				why = append(why, fmt.Sprintf("%s/%s: %s", f.Check, f.Code, f.Message))
			}
		}
	}
	if u.TargetVersionReason != "" {
		why = append(why, "target version unresolved: "+u.TargetVersionReason)
	}
	for _, n := range u.Notes {
		if strings.Contains(n, "Would refuse update") {
			why = append(why, n)
		}
	}
	return strings.Join(why, "; ")
}

// Summary is one line of a report that did not refuse.
func (u *UpdateReport) Summary() string {
	target := "?"
	if u.TargetVersion != nil {
		target = *u.TargetVersion
	}
	s := fmt.Sprintf("would update %s to %s, mode %s, %d actions", u.CurrentVersion, target, u.Mode, len(u.Actions))
	if u.DowngradeRisk {
		s += ", downgrade risk"
	}
	if u.Status != "" {
		s += ", status " + u.Status
	}
	return s
}

// LintReport is `openclaw doctor --lint --json`.
type LintReport struct {
	SchemaVersion int  `json:"schemaVersion"`
	OK            bool `json:"ok"`
	Findings      []struct {
		CheckID  string `json:"checkId"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
		FixHint  string `json:"fixHint"`
	} `json:"findings"`
	Error *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// blockingSeverities are the findings the updater itself refuses on;
// warnings and info it records and goes on.
var blockingSeverities = map[string]bool{"error": true, "critical": true, "fatal": true}

// Refusal lists the findings that block an update, with their fixes, or ""
// when none does. A report that ran no check (doctor failed before its
// checks) refuses with its error.
func (l *LintReport) Refusal() string {
	var why []string
	if l.Error != nil {
		why = append(why, "doctor failed: "+l.Error.Message)
	}
	for _, f := range l.Findings {
		if blockingSeverities[strings.ToLower(f.Severity)] {
			s := fmt.Sprintf("[%s] %s: %s", f.Severity, f.CheckID, f.Message)
			if f.FixHint != "" {
				s += " (fix: " + f.FixHint + ")"
			}
			why = append(why, s)
		}
	}
	return strings.Join(why, "; ")
}

// Summary is one line of a report that did not refuse.
func (l *LintReport) Summary() string {
	return fmt.Sprintf("%d findings below error, ok %t", len(l.Findings), l.OK)
}

// ErrNoReport marks output that holds no JSON report of the expected kind.
var ErrNoReport = errors.New("no JSON report in the output")

// LintReportKeys are keys one of which every lint report has.
var LintReportKeys = []string{"findings", "checksRun"}

// DecodeReport decodes into v the first JSON object in out that has one of
// keys: the CLI may print log lines before its report.
func DecodeReport(out []byte, v any, keys ...string) error {
	for i := 0; i < len(out); i++ {
		j := bytes.IndexByte(out[i:], '{')
		if j < 0 {
			break
		}
		i += j
		dec := json.NewDecoder(bytes.NewReader(out[i:]))
		var probe map[string]json.RawMessage
		if dec.Decode(&probe) != nil {
			continue
		}
		for _, k := range keys {
			if _, ok := probe[k]; ok {
				return json.Unmarshal(out[i:i+int(dec.InputOffset())], v)
			}
		}
	}
	return fmt.Errorf("%w (no object with any of %q)", ErrNoReport, keys)
}
