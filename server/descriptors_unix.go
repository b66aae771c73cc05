//go:build unix

package server

import "syscall"

// RaiseDescriptorLimit raises the process's soft limit on open files
// (RLIMIT_NOFILE) to its hard limit and returns the limit in force, or 0 if
// it cannot be read. Go already raises it at start on most systems; calling
// this makes sure, and tells the limit the connection cap is sized from.
func RaiseDescriptorLimit() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	if rl.Cur < rl.Max {
		raised := rl
		raised.Cur = raised.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			rl = raised
		}
	}
	return uint64(rl.Cur) //nolint:unconvert // int64 on some systems
}

// descriptorLimit returns the process's soft limit on open files, or 0 if
// it cannot be read.
func descriptorLimit() uint64 {
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) != nil {
		return 0
	}
	return uint64(rl.Cur) //nolint:unconvert // int64 on some systems
}
