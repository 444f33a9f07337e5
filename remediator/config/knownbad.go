package config

import (
	"errors"
	"fmt"

	"github.com/clawwatch/clawwatch/internal/openclaw"
)

// KnownBad names releases that must not run: a guarded upgrade to one is
// refused, and an alert-driven rollback never picks one. The mixin's
// OpenClawKnownBadRelease alert fires for a gateway that runs one.
type KnownBad struct {
	// Version is one release; Before is every release older than it. One
	// of the two.
	Version string `yaml:"version,omitempty"`
	Before  string `yaml:"before,omitempty"`
	Reason  string `yaml:"reason"`
}

// DefaultKnownBad are the releases with published advisories, always
// known bad; known_bad_releases adds to them.
var DefaultKnownBad = []KnownBad{
	{Before: "2026.9.3", Reason: "advisory: the diagnostics endpoint did not enforce operator.read before 2026.9.3"},
}

// Matches reports whether version is one of the releases k names; a version
// that is not a calendar version matches no Before.
func (k KnownBad) Matches(version string) bool {
	if k.Version != "" {
		c, err := openclaw.CompareReleases(version, k.Version)
		return err == nil && c == 0
	}
	c, err := openclaw.CompareReleases(version, k.Before)
	return err == nil && c < 0
}

// String says which releases and why.
func (k KnownBad) String() string {
	if k.Version != "" {
		return fmt.Sprintf("%s is a known-bad release (%s)", k.Version, k.Reason)
	}
	return fmt.Sprintf("releases before %s are known bad (%s)", k.Before, k.Reason)
}

// KnownBadRelease returns the entry that names version, built-in ones
// first, and whether there is one.
func (c *Config) KnownBadRelease(version string) (KnownBad, bool) {
	for _, k := range append(DefaultKnownBad[:len(DefaultKnownBad):len(DefaultKnownBad)], c.KnownBadReleases...) {
		if k.Matches(version) {
			return k, true
		}
	}
	return KnownBad{}, false
}

func (k *KnownBad) validate() error {
	switch {
	case (k.Version == "") == (k.Before == ""):
		return errors.New("one of version and before")
	case k.Reason == "":
		return errors.New("reason: empty; say why the release is bad (an advisory, an issue)")
	}
	for field, v := range map[string]string{"version": k.Version, "before": k.Before} {
		if v == "" {
			continue
		}
		if _, err := openclaw.CompareReleases(v, v); err != nil {
			return fmt.Errorf("%s: %w", field, err)
		}
	}
	return nil
}
