//go:build linux

package cputime

import "syscall"

// Thread returns the CPU time (user + system) the calling OS thread has used,
// in nanoseconds, or -1 if it cannot be read. Pin the goroutine with
// runtime.LockOSThread around the measured loop.
func Thread() int64 {
	const rusageThread = 1 // RUSAGE_THREAD
	return usage(rusageThread)
}

// Process returns the CPU time (user + system) of the whole process, in
// nanoseconds, or -1 if it cannot be read: for parallel benchmarks, whose
// goroutines run on many threads.
func Process() int64 { return usage(syscall.RUSAGE_SELF) }

func usage(who int) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
