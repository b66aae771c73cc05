// Package version reports the version of the jwtgate binary.
//
// Release builds stamp it at link time (the Makefile's build target does):
//
//	go build -ldflags "-X github.com/jwtgate/jwtgate/internal/version.stamped=v1.2.3" ./cmd/jwtgate
//
// Without a stamp, String falls back to what the Go toolchain recorded in
// the binary: the main module's version when built with "go install
// module@version", else the VCS revision with a "-dirty" suffix for a
// modified tree, else "devel".
package version

import (
	"runtime/debug"
	"sync"
)

// stamped is set with -ldflags -X; empty when the build did not stamp it.
var stamped string

// String returns the version of the running binary, never empty.
func String() string {
	once.Do(func() { resolved = resolve(stamped, readBuildInfo) })
	return resolved
}

var (
	once     sync.Once
	resolved string
)

// readBuildInfo is debug.ReadBuildInfo; tests replace it.
var readBuildInfo = debug.ReadBuildInfo

// resolve picks the version: the stamp, then the main module's version, then
// the VCS revision, then "devel".
func resolve(stamp string, read func() (*debug.BuildInfo, bool)) string {
	if stamp != "" {
		return stamp
	}
	info, ok := read()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision string
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if revision == "" {
		return "devel"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified {
		revision += "-dirty"
	}
	return "devel-" + revision
}
