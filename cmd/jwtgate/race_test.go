//go:build race

package main

// raceEnabled: the race detector makes sync.Pool drop items at random, so
// exact allocation counts are checked only in builds without it (make test
// runs them in a separate pass: go test -run Allocs).
const raceEnabled = true
