//go:build !unix

package server

// RaiseDescriptorLimit does nothing on this system, which has no
// RLIMIT_NOFILE, and returns 0.
func RaiseDescriptorLimit() uint64 { return 0 }

// descriptorLimit returns 0: the system has no RLIMIT_NOFILE.
func descriptorLimit() uint64 { return 0 }
