//go:build !unix

package main

import "errors"

// setFileLimit fails: the system has no RLIMIT_NOFILE.
func setFileLimit(uint64) error { return errors.New("no RLIMIT_NOFILE on this system") }
