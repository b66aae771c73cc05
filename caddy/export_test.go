package jwtgatecaddy

// VerifierRefs returns how many handlers hold h's verifier (0: none).
func VerifierRefs(h *Handler) int {
	n, _ := verifierPool.References(h.poolKey)
	return n
}

// StoreKey returns the pool key of the key store of h's issuer i.
func StoreKey(h *Handler, i int) string { return h.verifier.storeKeys[i] }

// StoreRefs returns how many verifiers hold the key store of a pool key
// (0: none, it is closed).
func StoreRefs(key string) int {
	n, _ := storePool.References(key)
	return n
}

// SameStore reports whether a's issuer i and b's issuer j have one key
// store.
func SameStore(a *Handler, i int, b *Handler, j int) bool {
	return a.verifier.stores[i] == b.verifier.stores[j]
}

// SameVerifier reports whether a and b share one verifier.
func SameVerifier(a, b *Handler) bool { return a.verifier == b.verifier }
