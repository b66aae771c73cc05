//go:build !linux

package engine

// threadCPU is unknown here.
func threadCPU() int64 { return -1 }
