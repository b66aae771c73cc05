package main

import (
	"fmt"

	"github.com/jwtgate/jwtgate/server/config"
)

// logFlags are serve's logging flags; given, they override the config
// file's log section.
type logFlags struct {
	format, level *string
	requests      *bool
}

// addLogFlags defines --log-format, --log-level and --log-requests on f.
func addLogFlags(f *cliFlags) *logFlags {
	return &logFlags{
		format:   f.String("log-format", "", "log `FORMAT`: text or json (default text, or log.format)"),
		level:    f.String("log-level", "", "log `LEVEL`: debug, info, warn or error (default info, or log.level)"),
		requests: f.Bool("log-requests", false, "log one line per /auth and /verify request (log.requests)"),
	}
}

// apply sets the flags that were given on cfg.Log. Errors name the flag.
func (l *logFlags) apply(f *cliFlags, cfg *config.Config) error {
	set := f.setFlags()
	if set["log-format"] {
		switch *l.format {
		case "text", "json":
		default:
			return fmt.Errorf("--log-format %q: must be text or json", *l.format)
		}
		cfg.Log.Format = *l.format
	}
	if set["log-level"] {
		switch *l.level {
		case "debug", "info", "warn", "error":
		default:
			return fmt.Errorf("--log-level %q: must be debug, info, warn or error", *l.level)
		}
		cfg.Log.Level = *l.level
	}
	if set["log-requests"] {
		cfg.Log.Requests = *l.requests
	}
	return nil
}
