package config_test

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/server/config"
)

// TestReloadSettings checks the reload section: off with a 5s interval by
// default, set from YAML, and an interval too short for a poll refused with
// its line.
func TestReloadSettings(t *testing.T) {
	cfg, err := config.Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Reload.Watch || cfg.Reload.Interval != config.DefaultReloadInterval {
		t.Errorf("default reload settings %+v", cfg.Reload)
	}
	cfg, err = config.Parse([]byte(minimal + "reload:\n  watch: true\n  interval: 2s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Reload.Watch || cfg.Reload.Interval != 2*time.Second {
		t.Errorf("reload settings %+v", cfg.Reload)
	}
	problem(t, minimal+"reload:\n  watch: true\n  interval: 10ms\n", 8, "reload.interval: must be at least 100ms")
	problem(t, minimal+"reload:\n  interval: soon\n", 7, `interval: "soon" is not a duration`)
}
