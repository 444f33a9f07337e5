package config

import (
	"testing"

	"github.com/prometheus/common/model"

	"github.com/clawwatch/clawwatch/mixin"
)

// The upgrade defaults that are the mixin's thresholds are the mixin's
// values: a change of one there must reach the remediator.
func TestUpgradeDefaultsAreTheMixins(t *testing.T) {
	c, err := mixin.Config("")
	if err != nil {
		t.Fatal(err)
	}
	if got := c["reasoningPassRatio"]; got != DefaultUpgradeMinRatio {
		t.Errorf("DefaultUpgradeMinRatio is %v, the mixin's reasoningPassRatio %v", DefaultUpgradeMinRatio, got)
	}
	window, err := model.ParseDuration(c["rateWindow"].(string))
	if err != nil {
		t.Fatalf("the mixin's rateWindow: %v", err)
	}
	if window != DefaultUpgradeSettle {
		t.Errorf("DefaultUpgradeSettle is %v, the mixin's rateWindow %v", DefaultUpgradeSettle, window)
	}
}
