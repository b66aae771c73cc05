//go:build !linux

package server_test

// threadCPU is unknown here.
func threadCPU() int64 { return -1 }

// processCPU is unknown here.
func processCPU() int64 { return -1 }
