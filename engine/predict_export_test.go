package engine

// PredictedKey returns the key v's header cache predicts for a token whose
// header segment is seg, the one the overlapped HMAC starts with (nil when
// there is none), so that tests can tell that path runs.
func PredictedKey(v *Verifier, seg []byte) *Key {
	k, _ := v.headers.entry(seg).predictedPads()
	return k
}

// HMACKernel reports whether HS256 keys get precomputed pads (the SHA-NI
// kernel) in this build and on this CPU.
func HMACKernel() bool { return useSHANI }
