//go:build !linux

package authz

// threadCPU is unknown here.
func threadCPU() int64 { return -1 }
