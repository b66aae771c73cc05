//go:build !amd64 || purego

package engine

// useSHANI is false: this build has no SHA-NI kernel, and HS256 verifies
// through crypto/hmac.
const useSHANI = false

// sha256BlockSHANI is never called in this build (useSHANI is false); it
// is sha256BlockGo so that the code calling it compiles.
func sha256BlockSHANI(h *[8]uint32, p []byte) { sha256BlockGo(h, p) }
