//go:build !linux

package bench

import (
	"errors"
	"runtime"
	"syscall"
	"time"
)

// childAttr has nothing to add off Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// serverCPU returns the CPU time process pid has used. Only Linux (/proc)
// tells it.
func serverCPU(pid int) (time.Duration, error) {
	return 0, errors.New("bench: a server's CPU time is read from /proc; on " + runtime.GOOS + " the wrk comparison cannot state it: run it on Linux")
}
