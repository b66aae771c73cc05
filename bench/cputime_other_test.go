//go:build !unix

package bench

// processCPU cannot tell the process CPU time here.
func processCPU() int64 { return -1 }
