//go:build !linux

package bench

import (
	"errors"
	"runtime"
)

// CPU returns the CPU time oauth2-proxy has used so far, in nanoseconds.
// Only Linux (/proc) tells it.
func (s *OAuth2ProxyServer) CPU() (int64, error) {
	return 0, errors.New("bench: the CPU time of oauth2-proxy's process is read from /proc; on " + runtime.GOOS + " the HTTP comparison cannot state it: run it on Linux")
}
