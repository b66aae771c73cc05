package jwtgatecaddy

// PoolKey returns the pool key of h's issuer i.
func PoolKey(h *Handler, i int) string { return h.keys[i] }

// PoolRefs returns how many handlers hold the issuer of a pool key (0:
// none, its key store is closed).
func PoolRefs(key string) int {
	n, _ := issuerPool.References(key)
	return n
}

// SameStore reports whether a's issuer i and b's issuer j are one key
// store and verifier.
func SameStore(a *Handler, i int, b *Handler, j int) bool {
	return a.held != nil && b.held != nil && a.held[i] == b.held[j]
}
