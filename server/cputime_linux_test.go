//go:build linux

package server_test

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

// processCPU returns the CPU time (user + system) of the whole process, in
// nanoseconds, or -1: for parallel benchmarks, whose goroutines run on many
// threads.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
