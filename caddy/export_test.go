package jwtgatecaddy

// KeyringRefs returns how many handlers hold h's key store (0: none, it
// is closed).
func KeyringRefs(h *Handler) int {
	n, _ := keyrings.References(h.ringKey)
	return n
}

// SameKeyring reports whether a and b share one key store.
func SameKeyring(a, b *Handler) bool { return a.ring != nil && a.ring == b.ring }
