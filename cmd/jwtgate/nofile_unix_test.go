//go:build unix

package main

import "syscall"

// setFileLimit sets the process's open-file limit, soft and hard, to n.
func setFileLimit(n uint64) error {
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n})
}
