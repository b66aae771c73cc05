//go:build !amd64 || purego

package engine

// kernelImpls is empty: this build has no assembly kernel.
func kernelImpls() []b64Impl { return nil }
