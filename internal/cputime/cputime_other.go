//go:build !linux

package cputime

// Thread returns -1: a thread's CPU time is not read on this system.
func Thread() int64 { return -1 }

// Process returns -1: the process's CPU time is not read on this system.
func Process() int64 { return -1 }
