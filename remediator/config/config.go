// Package config loads and validates the remediator's YAML configuration:
// the targets it may act on, the policies that map alerts to actions, and the
// safety limits. Unknown keys are errors with their line number; the keys are
// an API and are extended, never renamed.
package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/internal/configpath"
	"github.com/clawwatch/clawwatch/internal/gatewayconfig"
	"github.com/clawwatch/clawwatch/internal/openclaw"
	"github.com/clawwatch/clawwatch/remediator/driver"
)

// ActionSpec is what validation and the default policies know of an
// action. The action registry (package actions) reads this configuration,
// so this package cannot import it: whoever loads a file hands it the
// registry's specs (actions.ConfigSpecs).
type ActionSpec struct {
	Name string
	// ByLabel: an alert's action label may name it.
	ByLabel bool
	// Approval: the default policies hold it for a person's approval.
	Approval bool
	// Argv: it runs the policy's exec argv, which it then requires; only
	// a policy names it, since its argv comes from the operator.
	Argv bool
}

// Defaults, from the seeds' watchdog and emergency runbook.
const (
	DefaultTargetURL    = gatewayconfig.DefaultURL
	DefaultTargetLabel  = "gateway"
	DefaultActionLabel  = "remediation"
	DefaultWorkers      = 4
	DefaultMaxAttempts  = 3
	DefaultStopTimeout  = model.Duration(30 * time.Second)
	DefaultWindow       = model.Duration(time.Hour)
	DefaultCooldown     = model.Duration(5 * time.Minute)
	DefaultQuietPeriod  = model.Duration(time.Hour)
	DefaultApprovalTTL  = model.Duration(time.Hour)
	DefaultRetryDelay   = model.Duration(10 * time.Second)
	DefaultRetention    = model.Duration(7 * 24 * time.Hour)
	DefaultVerifyTime   = model.Duration(2 * time.Minute)
	DefaultVerifyEvery  = model.Duration(time.Second)
	DefaultLogMaxAge    = model.Duration(7 * 24 * time.Hour)
	DefaultLogBudget    = Bytes(1 << 30)
	DefaultSnapshots    = 20
	DefaultLogTailLines = 200
	DefaultBodyLimit    = Bytes(4 << 20)
	DefaultNotifyTime   = model.Duration(10 * time.Second)
	// DefaultVersionPattern accepts OpenClaw's calendar versions with an
	// optional pre-release suffix, and nothing a shell or path could misread.
	DefaultVersionPattern = `^[0-9]{4}\.[0-9]{1,2}\.[0-9]{1,2}(-[0-9A-Za-z.]{1,32})?$`
)

// DefaultRollbackCommand is OpenClaw's own downgrade path; {version} is
// replaced by a version that passed the version pattern.
var DefaultRollbackCommand = []string{"openclaw", "update", "--tag", "{version}", "--yes"}

// DefaultUpdateCommand is OpenClaw's own update path, used by a guarded
// upgrade; {version} is the version the operator asked for, once it passed
// the version pattern.
var DefaultUpdateCommand = []string{"openclaw", "update", "--tag", "{version}", "--yes"}

// State rollback points (see Backup): OpenClaw's own verified, WAL-aware
// archive, and its restore into a fresh directory. {dir} is the target's
// backup dir; {archive} an archive the backup command reported; {target} a
// new staging directory beside the state directory.
var (
	DefaultBackupCommand  = []string{"openclaw", "backup", "create", "--output", "{dir}", "--verify", "--json"}
	DefaultRestoreCommand = []string{"openclaw", "backup", "restore", "{archive}", "--target", "{target}", "--json"}
)

// DefaultBackupKeep is how many archives a target's backup dir keeps
// besides those the journal still names as rollback points.
const DefaultBackupKeep = 3

// DefaultPackageKeep is how many kept packages a target's keep dir holds
// besides those the journal still names as rollback points.
const DefaultPackageKeep = 2

// Upgrade defaults: the observation after each batch, and what it asks
// Prometheus. {target} is replaced by a target's name, which matches nameRe
// and so cannot leave a PromQL string.
const (
	DefaultUpgradeObserve  = model.Duration(5 * time.Minute)
	DefaultUpgradeInterval = model.Duration(15 * time.Second)
	// DefaultUpgradeSettle is the mixin's rateWindow: an update that stops
	// the gateway for minutes fires OpenClawGatewayDown and can fire OpenClawGatewayProbeFailuresHigh,
	// which stays firing until its failed probes leave that window.
	DefaultUpgradeSettle    = model.Duration(5 * time.Minute)
	DefaultUpgradeAlerts    = `ALERTS{alertstate="firing",alertname=~"OpenClaw.+",gateway="{target}"}`
	DefaultUpgradeReasoning = `min(openclaw_reasoning_pass_ratio{gateway="{target}"})`
	// DefaultUpgradeMinRatio is the mixin's reasoningPassRatio
	// (TestUpgradeDefaultsAreTheMixins).
	DefaultUpgradeMinRatio = 0.8
)

// DefaultJournalPath is relative to the configuration file.
const DefaultJournalPath = "data/remediator.db"

// defaultConfig is the file before its keys are read: a key left out keeps
// its default. Diagnostics.Dir is derived from the journal path after.
func defaultConfig() Config {
	quiet := DefaultQuietPeriod
	return Config{
		TargetLabel: DefaultTargetLabel,
		ActionLabel: DefaultActionLabel,
		Workers:     DefaultWorkers,
		BodyLimit:   DefaultBodyLimit,
		Journal:     Journal{Path: DefaultJournalPath, Retention: DefaultRetention},
		Diagnostics: Diagnostics{MaxSnapshots: DefaultSnapshots, LogLines: DefaultLogTailLines},
		Limits: Limits{
			Cooldown: DefaultCooldown, MaxAttempts: DefaultMaxAttempts, Window: DefaultWindow,
			QuietPeriod: &quiet, RetryDelay: DefaultRetryDelay,
		},
		Approval: Approval{Timeout: DefaultApprovalTTL},
		Upgrade: Upgrade{
			Observe: DefaultUpgradeObserve, Interval: DefaultUpgradeInterval, Settle: DefaultUpgradeSettle,
			AlertsQuery: DefaultUpgradeAlerts, ReasoningQuery: DefaultUpgradeReasoning, MinRatio: DefaultUpgradeMinRatio,
		},
	}
}

// defaultTarget is a target entry before its keys are read.
func defaultTarget() Target {
	return Target{
		Connection:  gatewayconfig.Default(),
		LogDirs:     []string{openclaw.DefaultLogDir},
		StopTimeout: DefaultStopTimeout,
		Verify:      Verify{Timeout: DefaultVerifyTime, Interval: DefaultVerifyEvery},
		Logs:        LogRetention{MaxAge: DefaultLogMaxAge, MaxTotalBytes: DefaultLogBudget},
		Rollback:    Rollback{Command: slices.Clone(DefaultRollbackCommand), VersionPattern: DefaultVersionPattern},
		Update:      Update{Command: slices.Clone(DefaultUpdateCommand)},
		Backup: Backup{Command: slices.Clone(DefaultBackupCommand), Restore: slices.Clone(DefaultRestoreCommand),
			Keep: DefaultBackupKeep},
		Package: Package{Keep: DefaultPackageKeep},
	}
}

// UnmarshalYAML sets the defaults, then reads the keys written.
func (c *Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = defaultConfig()
	type plain Config
	return unmarshal((*plain)(c))
}

// UnmarshalYAML sets the defaults, then reads the keys written.
func (t *Target) UnmarshalYAML(unmarshal func(any) error) error {
	*t = defaultTarget()
	type plain Target
	return unmarshal((*plain)(t))
}

// UnmarshalYAML sets the defaults, then reads the keys written.
func (n *Notify) UnmarshalYAML(unmarshal func(any) error) error {
	*n = Notify{Timeout: DefaultNotifyTime}
	type plain Notify
	return unmarshal((*plain)(n))
}

// Config is the whole file.
type Config struct {
	// TargetLabel names the alert label whose value selects the target.
	TargetLabel string `yaml:"target_label,omitempty"`
	// ActionLabel names the alert label whose value selects the action.
	ActionLabel string `yaml:"action_label,omitempty"`
	// DryRun journals what would be done and does nothing.
	DryRun      bool        `yaml:"dry_run,omitempty"`
	Workers     int         `yaml:"workers,omitempty"`
	BodyLimit   Bytes       `yaml:"webhook_body_limit,omitempty"`
	Journal     Journal     `yaml:"journal,omitempty"`
	Diagnostics Diagnostics `yaml:"diagnostics,omitempty"`
	Limits      Limits      `yaml:"limits,omitempty"`
	Approval    Approval    `yaml:"approval,omitempty"`
	Notify      *Notify     `yaml:"notify,omitempty"`
	Upgrade     Upgrade     `yaml:"upgrade,omitempty"`
	// KnownBadReleases adds to DefaultKnownBad (knownbad.go).
	KnownBadReleases []KnownBad `yaml:"known_bad_releases,omitempty"`
	Targets          []*Target  `yaml:"targets"`
	Policies         []*Policy  `yaml:"policies,omitempty"`
}

// Journal is where incidents and actions are recorded.
type Journal struct {
	Path      string         `yaml:"path,omitempty"`
	Retention model.Duration `yaml:"retention,omitempty"`
}

// Diagnostics bounds the evidence snapshots taken before a restart.
type Diagnostics struct {
	Dir          string `yaml:"dir,omitempty"`
	MaxSnapshots int    `yaml:"max_snapshots,omitempty"`
	LogLines     int    `yaml:"log_lines,omitempty"`
}

// Limits gate actions per target.
type Limits struct {
	Cooldown    model.Duration `yaml:"cooldown,omitempty"`
	MaxAttempts int            `yaml:"max_attempts,omitempty"`
	Window      model.Duration `yaml:"window,omitempty"`
	// QuietPeriod closes an open circuit after this long without incidents
	// for the target; 0 keeps it open until a manual reset.
	QuietPeriod *model.Duration `yaml:"circuit_quiet_period,omitempty"`
	// RetryDelay is the pause before another attempt after a failed one.
	RetryDelay model.Duration `yaml:"retry_delay,omitempty"`
}

// Approval configures incidents that wait for a human.
type Approval struct {
	Timeout model.Duration `yaml:"timeout,omitempty"`
}

// Notify is called with a JSON body when a circuit opens.
type Notify struct {
	URL              string                  `yaml:"url"`
	HTTPClientConfig config.HTTPClientConfig `yaml:"http_config,omitempty"`
	Timeout          model.Duration          `yaml:"timeout,omitempty"`
}

// Target is one gateway the remediator may act on.
type Target struct {
	Name string `yaml:"name"`
	// Connection: url, token_file, state_dir and log_profile, as in the
	// exporter's gateways. With a token, verification also needs the RPC
	// probe to succeed, and the evidence before a restart includes the
	// health RPC.
	gatewayconfig.Connection `yaml:",inline"`

	HTTPClientConfig config.HTTPClientConfig `yaml:"http_config,omitempty"`
	LogDirs          []string                `yaml:"log_dirs,omitempty"`
	StopTimeout      model.Duration          `yaml:"stop_timeout,omitempty"`
	Driver           driver.Config           `yaml:"driver"`
	Verify           Verify                  `yaml:"verify,omitempty"`
	Logs             LogRetention            `yaml:"log_retention,omitempty"`
	Rollback         Rollback                `yaml:"rollback,omitempty"`
	Update           Update                  `yaml:"update,omitempty"`
	Backup           Backup                  `yaml:"backup,omitempty"`
	Package          Package                 `yaml:"package,omitempty"`

	compileCache string // CLIEnv's NODE_COMPILE_CACHE, set by validation
}

// Update configures how a guarded upgrade installs a version.
type Update struct {
	Command []string `yaml:"command,omitempty"`
	// Stop: the remediator stops the gateway before the update command and
	// before the rollback command, and starts it after either (also after
	// one that failed), for a gateway OpenClaw's updater does not restart
	// itself (a foreground `openclaw gateway run` under the process driver,
	// whose running state the updater's Doctor would otherwise wait on);
	// the commands then say --no-restart.
	Stop bool `yaml:"stop,omitempty"`
	// Preflight checks run for every target before an upgrade's first
	// batch; any refusal ends the upgrade refused with nothing touched.
	Preflight Preflight `yaml:"preflight,omitempty"`
	// Status runs after a verified update; its output is journaled.
	Status []string `yaml:"status,omitempty"`
}

// Preflight is OpenClaw's own say before an upgrade. With update.command
// left at OpenClaw's updater, DryRun, Doctor and update.status default to
// OpenClaw's commands (DefaultPreflight); a custom update command gets none
// unless configured, and [] turns one off.
type Preflight struct {
	// DryRun asks the updater what it would do ({version}); its JSON
	// "status" skipped or error, or a "Would refuse update" note, refuses.
	DryRun []string `yaml:"dry_run,omitempty"`
	// Doctor lints the gateway's configuration and state; a finding of
	// severity error refuses, warnings are journaled.
	Doctor []string `yaml:"doctor,omitempty"`
}

// defaults gives OpenClaw's updater OpenClaw's preflights and status; a
// key written, even [], stays as written.
func (u *Update) defaults() {
	if !slices.Equal(u.Command, DefaultUpdateCommand) {
		return
	}
	if u.Preflight.DryRun == nil {
		u.Preflight.DryRun = slices.Clone(DefaultDryRunCommand)
	}
	if u.Preflight.Doctor == nil {
		u.Preflight.Doctor = slices.Clone(DefaultDoctorCommand)
	}
	if u.Status == nil {
		u.Status = slices.Clone(DefaultStatusCommand)
	}
}

// CLIEnv is the environment added to the commands the remediator runs of
// the gateway's CLI (update, rollback, backup, preflights): driver.env,
// and a persistent NODE_COMPILE_CACHE beside the journal unless driver.env
// sets one (Node's NODE_DISABLE_COMPILE_CACHE=1 there turns it off).
func (t *Target) CLIEnv() []string {
	if t.compileCache == "" || slices.ContainsFunc(t.Driver.Env(), func(e string) bool { return strings.HasPrefix(e, "NODE_COMPILE_CACHE=") }) {
		return t.Driver.Env()
	}
	return append(slices.Clip(t.Driver.Env()), "NODE_COMPILE_CACHE="+t.compileCache)
}

// OpenClaw's preflights, run as its updater runs doctor (errors block,
// warnings are advice), and its update record after an update.
var (
	DefaultDryRunCommand = []string{"openclaw", "update", "--tag", "{version}", "--yes", "--dry-run", "--json"}
	DefaultDoctorCommand = []string{"openclaw", "doctor", "--lint", "--severity-min", "error", "--json"}
	DefaultStatusCommand = []string{"openclaw", "update", "status", "--json"}
)

// CompileCacheDir is where OpenClaw's CLI, run by the remediator, keeps
// Node's compile cache (NODE_COMPILE_CACHE), relative to the journal's
// directory; OpenClaw's docs recommend a persistent one on small machines.
const CompileCacheDir = "node-compile-cache"

// Backup configures state rollback points. A newer OpenClaw migrates its
// databases at start, and an older one refuses the migrated state, so a
// rollback across a migration needs the state from before the upgrade:
// with Dir set, a guarded upgrade archives each target's state with Command
// before its update runs, and a rollback to the version it left restores
// that archive (gateway stopped, the current state kept aside) before it
// installs the version.
type Backup struct {
	// Dir receives the archives; empty: no state rollback points.
	Dir string `yaml:"dir,omitempty"`
	// Command writes a verified archive into {dir} and prints JSON with
	// its "archivePath".
	Command []string `yaml:"command,omitempty"`
	// Restore extracts {archive} into the new directory {target}.
	Restore []string `yaml:"restore,omitempty"`
	// Keep is how many archives stay in Dir besides those the journal
	// names as rollback points.
	Keep int `yaml:"keep,omitempty"`
}

// Package configures kept releases. OpenClaw's updater retains the previous
// package only while it activates a new one, and reinstalling an old
// release takes minutes (docs/openclaw.md), so with Dir set the remediator
// keeps the installed package before it replaces it (a guarded upgrade's
// update, an alert-driven rollback), and a rollback to a kept version puts
// that package back in place with rename(2) instead of reinstalling it.
type Package struct {
	// Dir is the installed package directory the gateway runs from (an
	// npm global install: <prefix>/lib/node_modules/openclaw); empty: no
	// package is kept and every rollback reinstalls.
	Dir string `yaml:"dir,omitempty"`
	// KeepDir receives the kept packages, and is the only directory
	// anything is ever removed from; default <backup.dir>/packages. On the
	// package's filesystem a swap is a rename; elsewhere a copy.
	KeepDir string `yaml:"keep_dir,omitempty"`
	// Keep is how many kept packages stay in KeepDir besides those the
	// journal names as rollback points.
	Keep int `yaml:"keep,omitempty"`
}

// Upgrade configures guarded upgrades: how long each batch is observed in
// Prometheus, and what counts as a failed observation.
type Upgrade struct {
	Observe  model.Duration `yaml:"observe,omitempty"`
	Interval model.Duration `yaml:"observe_interval,omitempty"`
	// Settle is waited between a batch's verification and its observation:
	// an update stops the gateway, its Down alert fires, and Prometheus
	// resolves it only a scrape and an evaluation after the gateway is back.
	Settle model.Duration `yaml:"settle,omitempty"`
	// AlertsQuery returns the firing alerts of a target; any sample fails.
	AlertsQuery string `yaml:"alerts_query,omitempty"`
	// ReasoningQuery returns a target's reasoning pass ratio; a value below
	// MinRatio fails, no sample passes (no suite configured).
	ReasoningQuery string  `yaml:"reasoning_query,omitempty"`
	MinRatio       float64 `yaml:"reasoning_min_ratio,omitempty"`
}

// NewDriver builds the target's driver.
func (t *Target) NewDriver(procs openclaw.ProcFS) (driver.Driver, error) {
	return t.Driver.New(driver.Target{Port: t.Port(), LockDirs: t.LockDirs(), Procs: procs})
}

// Verify probes /healthz and /readyz after an action until both answer
// healthy or the timeout passes.
type Verify struct {
	Timeout  model.Duration `yaml:"timeout,omitempty"`
	Interval model.Duration `yaml:"interval,omitempty"`
}

// LogRetention is what cleanup_logs enforces in LogDirs.
type LogRetention struct {
	MaxAge        model.Duration `yaml:"max_age,omitempty"`
	MaxTotalBytes Bytes          `yaml:"max_total_bytes,omitempty"`
	Compress      *bool          `yaml:"compress,omitempty"`
}

// Rollback configures the rollback action.
type Rollback struct {
	Command        []string `yaml:"command,omitempty"`
	VersionPattern string   `yaml:"version_pattern,omitempty"`

	re *regexp.Regexp
}

// VersionRegexp is the compiled version pattern.
func (r Rollback) VersionRegexp() *regexp.Regexp { return r.re }

// Policy maps alerts to an action. The first policy whose matchers all match
// an alert decides for it.
type Policy struct {
	Name string `yaml:"name"`
	// Matchers in Alertmanager's syntax (`severity="critical"`,
	// `alertname=~"OpenClaw.+"`, or a whole `{…}` list per entry).
	Matchers []string `yaml:"matchers"`
	// Action overrides the alert's action label.
	Action string `yaml:"action,omitempty"`
	// Exec is the argv of the exec action.
	Exec []string `yaml:"exec,omitempty"`
	// Verify makes exec verify the target afterwards.
	Verify   bool `yaml:"verify,omitempty"`
	Approval bool `yaml:"approval,omitempty"`
	DryRun   bool `yaml:"dry_run,omitempty"`
	// Quiet makes the policy's incidents wait for a quiet moment on the
	// gateway (no active agent turns) before they act; nil acts at once.
	Quiet *Quiet `yaml:"quiet,omitempty"`

	matchers labels.Matchers
}

// Quiet is a policy's wait for a quiet moment: for alerts that predict
// trouble hours ahead (a leak), where a restart in the middle of a user's
// agent turn costs more than waiting does.
type Quiet struct {
	// Within bounds the wait, from the incident's admission.
	Within model.Duration `yaml:"within"`
	// Then is what an incident does when no quiet moment came within:
	// QuietThenApproval (the default) waits for a person, QuietThenAct
	// acts all the same.
	Then string `yaml:"then,omitempty"`
}

// UnmarshalYAML sets the defaults, then reads the keys written.
func (q *Quiet) UnmarshalYAML(unmarshal func(any) error) error {
	*q = Quiet{Within: DefaultQuietWithin, Then: QuietThenApproval}
	type plain Quiet
	return unmarshal((*plain)(q))
}

// What a quiet wait does at its deadline.
const (
	QuietThenApproval = "approval"
	QuietThenAct      = "act"
)

// DefaultQuietWithin is how long the default policies let a predictive
// alert wait for a quiet moment: the mixin's leak alerts predict
// exhaustion 4 h ahead, and a restart must leave time to act on a person's
// approval before then.
const DefaultQuietWithin = model.Duration(2 * time.Hour)

// DefaultQuietLabel and DefaultQuietValue mark an alert as predictive for
// the default policies; the mixin's leak alerts carry them.
const (
	DefaultQuietLabel = "remediation_timing"
	DefaultQuietValue = "quiet"
)

// Every is how often a waiting incident asks its gateway for active
// turns: within/120, from 1s to 30s, so that a short wait (a demo, a test)
// still sees the moment and a long one does not ask needlessly often.
func (q *Quiet) Every() time.Duration {
	return min(max(time.Duration(q.Within)/120, time.Second), 30*time.Second)
}

// Compiled returns the parsed matchers.
func (p *Policy) Compiled() labels.Matchers { return p.matchers }

// CompressLogs says whether cleanup_logs gzips rotated files.
func (l LogRetention) CompressLogs() bool { return l.Compress == nil || *l.Compress }

// Bytes is a size in YAML: a number of bytes or a string such as "512MiB".
type Bytes int64

// UnmarshalYAML accepts integers and units.Base2Bytes strings.
func (b *Bytes) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*b = Bytes(n)
	} else {
		v, err := units.ParseBase2Bytes(s)
		if err != nil {
			return fmt.Errorf("size %q: %w", s, err)
		}
		*b = Bytes(v)
	}
	if *b < 0 {
		return fmt.Errorf("size %q is negative", s)
	}
	return nil
}

// MarshalYAML writes the size as a string.
func (b Bytes) MarshalYAML() (any, error) { return units.Base2Bytes(b).String(), nil }

// Load reads and validates a configuration file; relative paths are relative
// to the file.
func Load(path string, known []ActionSpec) (*Config, error) {
	return configpath.Load(path, func(data []byte, dir string) (*Config, error) { return Parse(data, dir, known) })
}

// Parse parses and validates configuration text; dir resolves relative
// paths, known are the actions a policy may name.
func Parse(data []byte, dir string, known []ActionSpec) (*Config, error) {
	c := &Config{}
	if err := configpath.UnmarshalStrict(data, c); err != nil {
		return nil, err
	}
	if err := c.validate(dir, known); err != nil {
		return nil, err
	}
	return c, nil
}

// Policy returns the policy called name, or nil.
func (c *Config) Policy(name string) *Policy {
	for _, p := range c.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Target returns the target called name, or nil.
func (c *Config) Target(name string) *Target {
	for _, t := range c.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// TargetNames lists the configured targets in file order.
func (c *Config) TargetNames() []string {
	out := make([]string, len(c.Targets))
	for i, t := range c.Targets {
		out[i] = t.Name
	}
	return out
}

// DefaultPolicies apply when the file has none: the action label chooses
// among the actions it may name, and those that need approval (rollback)
// wait for a person ("auto-pause, human confirms").
func DefaultPolicies(actionLabel string, known []ActionSpec) []*Policy {
	var out []*Policy
	var byLabel []string
	for _, a := range known {
		switch {
		case !a.ByLabel:
		case a.Approval:
			out = append(out, &Policy{Name: a.Name + "_needs_approval", Matchers: []string{actionLabel + `="` + a.Name + `"`}, Approval: true})
		default:
			byLabel = append(byLabel, a.Name)
		}
	}
	byLabelMatcher := actionLabel + `=~"` + strings.Join(byLabel, "|") + `"`
	// Predictive alerts (the label is the mixin's) wait for a quiet
	// moment, then for a person: a label can only make an action wait.
	out = append(out, &Policy{Name: "quiet_moment", Matchers: []string{DefaultQuietLabel + `="` + DefaultQuietValue + `"`, byLabelMatcher},
		Quiet: &Quiet{Within: DefaultQuietWithin, Then: QuietThenApproval}})
	return append(out, &Policy{Name: "by_label", Matchers: []string{byLabelMatcher}})
}

// The ranges of every count, size and duration key, listed in
// docs/configuration.md. Generous: what a real fleet could want, and the
// milliseconds that tests use; what lies outside is a typo or a unit
// mistake.
var (
	workersRange      = configpath.Count("workers", 1, 256)
	bodyLimitRange    = configpath.Size("webhook_body_limit", Bytes(1<<10), Bytes(256<<20))
	retentionRange    = configpath.Duration("journal.retention", 24*time.Hour, 2*365*24*time.Hour)
	snapshotsRange    = configpath.Count("diagnostics.max_snapshots", 1, 10000)
	logLinesRange     = configpath.Count("diagnostics.log_lines", 1, 100000)
	cooldownRange     = configpath.Duration("limits.cooldown", time.Millisecond, 7*24*time.Hour)
	maxAttemptsRange  = configpath.Count("limits.max_attempts", 1, 100)
	windowRange       = configpath.Duration("limits.window", time.Millisecond, 30*24*time.Hour)
	quietRange        = configpath.Duration("limits.circuit_quiet_period", 0, 30*24*time.Hour)
	retryDelayRange   = configpath.Duration("limits.retry_delay", time.Millisecond, 24*time.Hour)
	approvalRange     = configpath.Duration("approval.timeout", time.Millisecond, 30*24*time.Hour)
	quietWithinRange  = configpath.Duration("policies[].quiet.within", time.Millisecond, 7*24*time.Hour)
	notifyTimeRange   = configpath.Duration("notify.timeout", time.Millisecond, 5*time.Minute)
	observeRange      = configpath.Duration("upgrade.observe", time.Millisecond, 24*time.Hour)
	observeEveryRange = configpath.Duration("upgrade.observe_interval", time.Millisecond, time.Hour)
	settleRange       = configpath.Duration("upgrade.settle", time.Millisecond, 24*time.Hour)
	stopTimeoutRange  = configpath.Duration("targets[].stop_timeout", time.Millisecond, time.Hour)
	verifyTimeRange   = configpath.Duration("targets[].verify.timeout", time.Millisecond, time.Hour)
	verifyEveryRange  = configpath.Duration("targets[].verify.interval", time.Millisecond, time.Minute)
	logMaxAgeRange    = configpath.Duration("targets[].log_retention.max_age", time.Millisecond, 10*365*24*time.Hour)
	logBudgetRange    = configpath.Size("targets[].log_retention.max_total_bytes", Bytes(1), Bytes(16<<40))
	backupKeepRange   = configpath.Count("targets[].backup.keep", 1, 1000)
	packageKeepRange  = configpath.Count("targets[].package.keep", 1, 100)
	uidRange          = gatewayconfig.UIDRange.In("targets[]")
)

// Ranges are the ranges of the file's keys, for the documentation's test.
func Ranges() []configpath.Bounds {
	return append([]configpath.Bounds{
		workersRange, bodyLimitRange, retentionRange, snapshotsRange, logLinesRange,
		cooldownRange, maxAttemptsRange, windowRange, quietRange, retryDelayRange, approvalRange, quietWithinRange,
		notifyTimeRange, observeRange, observeEveryRange, settleRange,
		stopTimeoutRange, verifyTimeRange, verifyEveryRange, logMaxAgeRange, logBudgetRange, backupKeepRange, packageKeepRange, uidRange,
	}, driver.Ranges()...)
}

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,62}$`)

func (c *Config) validate(dir string, known []ActionSpec) error {
	home, _ := os.UserHomeDir()
	for _, f := range []struct{ key, v string }{
		{"target_label", c.TargetLabel}, {"action_label", c.ActionLabel}, {"journal.path", c.Journal.Path},
	} {
		if f.v == "" {
			return fmt.Errorf("%s: empty; leave the key out for the default", f.key)
		}
	}
	// Alertmanager repeats a firing group every repeat_interval (4 h by
	// default) with the same fingerprint and startsAt; forgetting the key
	// sooner would act on a repeat.
	if time.Duration(c.Journal.Retention) < 24*time.Hour {
		return fmt.Errorf("journal.retention: %s is shorter than 24h; duplicates must be recognised longer than any repeat_interval", c.Journal.Retention)
	}
	if c.Limits.QuietPeriod == nil { // circuit_quiet_period: null
		q := DefaultQuietPeriod
		c.Limits.QuietPeriod = &q
	}
	if err := configpath.First(
		workersRange.Check(c.Workers),
		bodyLimitRange.Check(c.BodyLimit),
		retentionRange.Check(c.Journal.Retention),
		snapshotsRange.Check(c.Diagnostics.MaxSnapshots),
		logLinesRange.Check(c.Diagnostics.LogLines),
		cooldownRange.Check(c.Limits.Cooldown),
		maxAttemptsRange.Check(c.Limits.MaxAttempts),
		windowRange.Check(c.Limits.Window),
		quietRange.Check(*c.Limits.QuietPeriod),
		retryDelayRange.Check(c.Limits.RetryDelay),
		approvalRange.Check(c.Approval.Timeout),
		observeRange.Check(c.Upgrade.Observe),
		observeEveryRange.Check(c.Upgrade.Interval),
		settleRange.Check(c.Upgrade.Settle),
	); err != nil {
		return err
	}
	c.Journal.Path = configpath.Resolve(c.Journal.Path, dir, home)
	if c.Diagnostics.Dir == "" { // beside the journal, wherever that is
		c.Diagnostics.Dir = filepath.Join(filepath.Dir(c.Journal.Path), "diagnostics")
	}
	c.Diagnostics.Dir = configpath.Resolve(c.Diagnostics.Dir, dir, home)
	for i := range c.KnownBadReleases {
		if err := c.KnownBadReleases[i].validate(); err != nil {
			return fmt.Errorf("known_bad_releases[%d]: %w", i, err)
		}
	}
	if err := c.Upgrade.validate(); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	if c.Notify != nil {
		if err := notifyTimeRange.Check(c.Notify.Timeout); err != nil {
			return err
		}
		if err := c.Notify.validate(dir); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
	}
	if len(c.Targets) == 0 {
		return errors.New("targets: at least one target is required")
	}
	seen := map[string]bool{}
	for i, t := range c.Targets {
		if t == nil {
			return fmt.Errorf("targets[%d]: empty entry", i)
		}
		if err := t.validate(dir, home); err != nil {
			return fmt.Errorf("targets[%d] (%s): %w", i, t.Name, err)
		}
		t.compileCache = filepath.Join(filepath.Dir(c.Journal.Path), CompileCacheDir)
		if seen[t.Name] {
			return fmt.Errorf("targets[%d]: name %q is used twice", i, t.Name)
		}
		seen[t.Name] = true
	}
	switch {
	case c.Policies == nil: // left out, or policies: null
		c.Policies = DefaultPolicies(c.ActionLabel, known)
	case len(c.Policies) == 0:
		return errors.New("policies: an empty list matches no alert, so nothing would ever be done; leave the key out for the default policies, or list at least one")
	}
	names := map[string]bool{}
	for i, p := range c.Policies {
		if p == nil {
			return fmt.Errorf("policies[%d]: empty entry", i)
		}
		if err := p.validate(known); err != nil {
			return fmt.Errorf("policies[%d] (%s): %w", i, p.Name, err)
		}
		if names[p.Name] {
			return fmt.Errorf("policies[%d]: name %q is used twice", i, p.Name)
		}
		names[p.Name] = true
	}
	return nil
}

func (u *Upgrade) validate() error {
	if u.Interval > u.Observe {
		return fmt.Errorf("observe_interval: %s is longer than observe %s", u.Interval, u.Observe)
	}
	for _, q := range []struct{ key, v string }{{"alerts_query", u.AlertsQuery}, {"reasoning_query", u.ReasoningQuery}} {
		if !strings.Contains(q.v, "{target}") {
			return fmt.Errorf("%s: %q does not contain {target}", q.key, q.v)
		}
	}
	if u.MinRatio <= 0 || u.MinRatio > 1 {
		return fmt.Errorf("reasoning_min_ratio: %v is not in (0, 1]", u.MinRatio)
	}
	return nil
}

func (n *Notify) validate(dir string) error {
	if _, err := gatewayconfig.ParseURL(n.URL); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	n.HTTPClientConfig.SetDirectory(dir)
	if err := n.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return nil
}

func (t *Target) validate(dir, home string) error {
	if !nameRe.MatchString(t.Name) {
		return fmt.Errorf("name: %q must match %s", t.Name, nameRe)
	}
	if err := t.Connection.Resolve(dir, home); err != nil {
		return err
	}
	t.HTTPClientConfig.SetDirectory(dir)
	if err := t.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	if len(t.LogDirs) == 0 {
		return errors.New("log_dirs: empty list; leave the key out for the default")
	}
	if err := configpath.First(
		stopTimeoutRange.Check(t.StopTimeout),
		verifyTimeRange.Check(t.Verify.Timeout),
		verifyEveryRange.Check(t.Verify.Interval),
		logMaxAgeRange.Check(t.Logs.MaxAge),
		logBudgetRange.Check(t.Logs.MaxTotalBytes),
		backupKeepRange.Check(t.Backup.Keep),
		packageKeepRange.Check(t.Package.Keep),
	); err != nil {
		return err
	}
	if t.Verify.Interval > t.Verify.Timeout {
		return fmt.Errorf("verify.interval: %s is longer than verify.timeout %s", t.Verify.Interval, t.Verify.Timeout)
	}
	for i, d := range t.LogDirs {
		// "" would resolve to this file's directory, which cleanup_logs
		// would then prune: a path is written or the key left out.
		if strings.TrimSpace(d) == "" {
			return fmt.Errorf("log_dirs[%d]: empty path", i)
		}
		t.LogDirs[i] = configpath.Resolve(d, dir, home)
		if filepath.Clean(t.LogDirs[i]) == "/" {
			return fmt.Errorf("log_dirs[%d]: refusing the root directory", i)
		}
	}
	if !slices.ContainsFunc(t.Rollback.Command, func(a string) bool { return strings.Contains(a, "{version}") }) {
		return errors.New("rollback.command: no argument contains {version}")
	}
	if !slices.ContainsFunc(t.Update.Command, func(a string) bool { return strings.Contains(a, "{version}") }) {
		return errors.New("update.command: no argument contains {version}")
	}
	t.Update.defaults()
	if len(t.Update.Preflight.DryRun) > 0 && !slices.ContainsFunc(t.Update.Preflight.DryRun, func(a string) bool { return strings.Contains(a, "{version}") }) {
		return errors.New("update.preflight.dry_run: no argument contains {version}")
	}
	if err := t.Backup.validate(dir, home); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := t.Package.validate(dir, home, t.Backup.Dir); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	var err error
	if t.Rollback.re, err = regexp.Compile(t.Rollback.VersionPattern); err != nil {
		return fmt.Errorf("rollback.version_pattern: %w", err)
	}
	if !strings.HasPrefix(t.Rollback.VersionPattern, "^") || !strings.HasSuffix(t.Rollback.VersionPattern, "$") {
		return errors.New("rollback.version_pattern: must be anchored with ^ and $")
	}
	if err := t.Driver.Validate(dir, home); err != nil {
		return err
	}
	return nil
}

func (b *Backup) validate(dir, home string) error {
	if b.Dir == "" {
		return nil
	}
	b.Dir = configpath.Resolve(b.Dir, dir, home)
	if filepath.Clean(b.Dir) == "/" {
		return errors.New("dir: refusing the root directory")
	}
	for field, want := range map[string]struct {
		argv []string
		need []string
	}{"command": {b.Command, []string{"{dir}"}}, "restore": {b.Restore, []string{"{archive}", "{target}"}}} {
		if len(want.argv) == 0 || want.argv[0] == "" {
			return fmt.Errorf("%s: empty", field)
		}
		for _, p := range want.need {
			if !slices.ContainsFunc(want.argv, func(a string) bool { return strings.Contains(a, p) }) {
				return fmt.Errorf("%s: no argument contains %s", field, p)
			}
		}
	}
	return nil
}

func (p *Package) validate(dir, home, backups string) error {
	if p.Dir == "" {
		return nil
	}
	p.Dir = filepath.Clean(configpath.Resolve(p.Dir, dir, home))
	if p.Dir == "/" {
		return errors.New("dir: refusing the root directory")
	}
	switch {
	case p.KeepDir != "":
		p.KeepDir = filepath.Clean(configpath.Resolve(p.KeepDir, dir, home))
	case backups != "":
		p.KeepDir = filepath.Join(backups, "packages")
	default:
		return errors.New("keep_dir: required with dir when backup.dir is not set")
	}
	if p.KeepDir == "/" {
		return errors.New("keep_dir: refusing the root directory")
	}
	inside := func(a, b string) bool { return a == b || strings.HasPrefix(a, b+string(filepath.Separator)) }
	if inside(p.KeepDir, p.Dir) || inside(p.Dir, p.KeepDir) {
		return fmt.Errorf("keep_dir: %s and dir %s must not contain each other", p.KeepDir, p.Dir)
	}
	return nil
}

func (p *Policy) validate(known []ActionSpec) error {
	if !nameRe.MatchString(p.Name) {
		return fmt.Errorf("name: %q must match %s", p.Name, nameRe)
	}
	if len(p.Matchers) == 0 {
		return errors.New("matchers: at least one matcher is required")
	}
	p.matchers = nil
	for i, s := range p.Matchers {
		ms, err := ParseMatchers(s)
		if err != nil {
			return fmt.Errorf("matchers[%d]: %w", i, err)
		}
		p.matchers = append(p.matchers, ms...)
	}
	i := slices.IndexFunc(known, func(s ActionSpec) bool { return s.Name == p.Action })
	argv := i >= 0 && known[i].Argv
	switch {
	case p.Action == "":
	case i < 0:
		names := make([]string, len(known))
		for i, s := range known {
			names[i] = s.Name
		}
		return fmt.Errorf("action: unknown action %q (one of %s)", p.Action, strings.Join(names, ", "))
	case argv:
		if len(p.Exec) == 0 || p.Exec[0] == "" {
			return fmt.Errorf("exec: an argv is required for action %s", p.Action)
		}
		for i, s := range p.Exec {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("exec[%d]: contains a NUL byte", i)
			}
		}
	}
	if !argv && len(p.Exec) > 0 {
		return errors.New("exec: only for action exec")
	}
	if q := p.Quiet; q != nil {
		if err := quietWithinRange.Check(q.Within); err != nil {
			return err
		}
		switch q.Then {
		case QuietThenApproval, QuietThenAct:
		default:
			return fmt.Errorf("quiet.then: %q is not %q or %q", q.Then, QuietThenApproval, QuietThenAct)
		}
	}
	return nil
}

// ParseMatchers parses one matchers entry in Alertmanager's syntax. An empty
// list is an error: a policy that matches everything must say so with an
// explicit matcher.
func ParseMatchers(s string) (labels.Matchers, error) {
	ms, err := labels.ParseMatchers(s)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("%q has no matcher", s)
	}
	return ms, nil
}
