//go:build race

package authz

// raceEnabled: the race detector makes allocation counts meaningless.
const raceEnabled = true
