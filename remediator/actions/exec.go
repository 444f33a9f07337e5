package actions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clawwatch/clawwatch/remediator/config"
	"github.com/clawwatch/clawwatch/remediator/driver"
	"github.com/clawwatch/clawwatch/remediator/journal"
)

// execAction runs a policy's argv with the alert in its environment.
type execAction struct{}

func (execAction) Spec() Spec { return Spec{Name: "exec", Disruptive: true, Argv: true} }

func (execAction) Run(ctx context.Context, env *Env) (Result, error) {
	inc := env.Incident
	i := slices.IndexFunc(env.Config.Policies, func(p *config.Policy) bool { return p.Name == inc.Policy })
	if i < 0 || env.Config.Policies[i].Action != (execAction{}).Spec().Name {
		return Result{}, fmt.Errorf("policy %q with action exec is no longer configured", inc.Policy)
	}
	p := env.Config.Policies[i]
	out, err := driver.Run(ctx, p.Exec, "", ExecEnv(inc))
	return Result{Output: out, Verify: p.Verify}, err
}

// MaxEnvValue bounds one alert value passed to exec.
const MaxEnvValue = 4096

// EnvName turns a label name, which may be any UTF-8 since Alertmanager
// 0.27, into an environment variable name: A–Z, 0–9 and _ only.
func EnvName(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// envValue drops NUL bytes, which no environment can hold, and bounds size.
func envValue(v string) string {
	v = strings.ReplaceAll(v, "\x00", "")
	if len(v) > MaxEnvValue {
		v = v[:MaxEnvValue]
	}
	return v
}

// ExecEnv is the alert data an exec action gets, as environment variables
// (never as arguments): ALERT_ID, ALERT_FINGERPRINT, ALERT_STATUS,
// ALERT_STARTS_AT, ALERT_TARGET, ALERT_LABEL_<NAME>, ALERT_ANNOTATION_<NAME>.
// When two names sanitise to the same variable, the first in sorted order wins.
func ExecEnv(inc *journal.Incident) []string {
	env := []string{
		"ALERT_ID=" + inc.ID,
		"ALERT_FINGERPRINT=" + envValue(inc.Fingerprint),
		"ALERT_STATUS=" + inc.Status,
		"ALERT_STARTS_AT=" + inc.StartsAt.UTC().Format(time.RFC3339),
		"ALERT_TARGET=" + inc.Target,
	}
	seen := map[string]bool{}
	add := func(prefix string, kv map[string]string) {
		keys := make([]string, 0, len(kv))
		for k := range kv {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := EnvName(prefix, k)
			if seen[name] {
				continue
			}
			seen[name] = true
			env = append(env, name+"="+envValue(kv[k]))
		}
	}
	add("ALERT_LABEL_", inc.Labels)
	add("ALERT_ANNOTATION_", inc.Annotations)
	return env
}
