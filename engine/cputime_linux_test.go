//go:build linux

package engine

import "syscall"

// threadCPU returns the CPU time (user + system) the calling OS thread has
// used, in nanoseconds, or -1: with runtime.LockOSThread, the cost of a
// loop on a machine where other processes take turns on the cores.
func threadCPU() int64 {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
