package bench

import (
	"syscall"
	"time"
)

// childAttr makes a process the wrk comparison starts die with the thread
// that started it (Go keeps its threads for the process's life), so that a
// harness ended by a signal or a test's timeout, whose deferred stops never
// run, leaves no server or wrk behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// serverCPU returns the CPU time (user + system) process pid has used.
func serverCPU(pid int) (time.Duration, error) {
	ns, err := procCPU(pid)
	return time.Duration(ns), err
}
