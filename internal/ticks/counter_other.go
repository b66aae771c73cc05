//go:build !amd64 || purego

package ticks

// counter is never called: counterInvariant reports no counter.
func counter() int64 { return 0 }

// counterInvariant reports that this build reads no time-stamp counter.
func counterInvariant() bool { return false }
