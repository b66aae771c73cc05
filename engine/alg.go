package engine

import (
	"crypto"
	"fmt"
)

// Alg is a JWS signature algorithm (RFC 7518 §3, RFC 8037). The zero value,
// AlgUnknown, names no algorithm; "none" is deliberately not representable.
type Alg uint8

// The algorithms jwtgate verifies.
const (
	AlgUnknown Alg = iota
	RS256
	RS384
	RS512
	PS256
	PS384
	PS512
	ES256
	ES384
	ES512
	EdDSA
	HS256
	HS384
	HS512
	numAlgs
)

// Family groups algorithms that share a key type.
type Family uint8

// Key families.
const (
	FamilyUnknown Family = iota
	FamilyRSA            // RS*, PS*: RSA public key
	FamilyEC             // ES*: ECDSA public key on the curve bound to the algorithm
	FamilyOKP            // EdDSA: Ed25519 public key
	FamilyHMAC           // HS*: shared secret
)

type algInfo struct {
	name   string
	family Family
	hash   crypto.Hash
	pss    bool
	sigLen int // exact signature length for ES* (r‖s), 64 for EdDSA, hash size for HS*; 0 for RSA (modulus size)
}

var algs = [numAlgs]algInfo{
	AlgUnknown: {name: "unknown"},
	RS256:      {name: "RS256", family: FamilyRSA, hash: crypto.SHA256},
	RS384:      {name: "RS384", family: FamilyRSA, hash: crypto.SHA384},
	RS512:      {name: "RS512", family: FamilyRSA, hash: crypto.SHA512},
	PS256:      {name: "PS256", family: FamilyRSA, hash: crypto.SHA256, pss: true},
	PS384:      {name: "PS384", family: FamilyRSA, hash: crypto.SHA384, pss: true},
	PS512:      {name: "PS512", family: FamilyRSA, hash: crypto.SHA512, pss: true},
	ES256:      {name: "ES256", family: FamilyEC, hash: crypto.SHA256, sigLen: 64},
	ES384:      {name: "ES384", family: FamilyEC, hash: crypto.SHA384, sigLen: 96},
	ES512:      {name: "ES512", family: FamilyEC, hash: crypto.SHA512, sigLen: 132},
	EdDSA:      {name: "EdDSA", family: FamilyOKP, sigLen: 64},
	HS256:      {name: "HS256", family: FamilyHMAC, hash: crypto.SHA256, sigLen: 32},
	HS384:      {name: "HS384", family: FamilyHMAC, hash: crypto.SHA384, sigLen: 48},
	HS512:      {name: "HS512", family: FamilyHMAC, hash: crypto.SHA512, sigLen: 64},
}

// Algorithms lists every algorithm jwtgate verifies, in a stable order.
func Algorithms() []Alg {
	out := make([]Alg, 0, numAlgs-1)
	for a := AlgUnknown + 1; a < numAlgs; a++ {
		out = append(out, a)
	}
	return out
}

// String returns the JOSE name of the algorithm, e.g. "RS256".
func (a Alg) String() string {
	if a >= numAlgs {
		return algs[AlgUnknown].name
	}
	return algs[a].name
}

// Family returns the key family the algorithm needs.
func (a Alg) Family() Family {
	if a >= numAlgs {
		return FamilyUnknown
	}
	return algs[a].family
}

// Hash returns the hash function of the algorithm (0 for EdDSA, which hashes internally).
func (a Alg) Hash() crypto.Hash {
	if a >= numAlgs {
		return 0
	}
	return algs[a].hash
}

// Valid reports whether a names a supported algorithm.
func (a Alg) Valid() bool { return a > AlgUnknown && a < numAlgs }

// ParseAlg maps a JOSE algorithm name to an Alg. The match is exact and
// case-sensitive (RFC 7515 §4.1.1): "rs256" and "none" are not algorithms.
func ParseAlg(name string) (Alg, bool) {
	return parseAlgBytes(s2b(name))
}

// parseAlgBytes is ParseAlg for a byte slice, without allocation.
func parseAlgBytes(b []byte) (Alg, bool) {
	if len(b) != 5 {
		return AlgUnknown, false
	}
	for a := AlgUnknown + 1; a < numAlgs; a++ {
		if string(b) == algs[a].name {
			return a, true
		}
	}
	return AlgUnknown, false
}

// MarshalText returns the JOSE name of a, so that configuration files and
// JSON carry algorithms by name.
func (a Alg) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("engine: %d is not an algorithm", a)
	}
	return []byte(a.String()), nil
}

// UnmarshalText sets a from its JOSE name, matched exactly as ParseAlg does.
func (a *Alg) UnmarshalText(text []byte) error {
	alg, ok := parseAlgBytes(text)
	if !ok {
		return fmt.Errorf("%q is not a supported algorithm (RS256..RS512, PS256..PS512, ES256, ES384, ES512, EdDSA, HS256..HS512)", text)
	}
	*a = alg
	return nil
}
