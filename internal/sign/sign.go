// Package sign generates keys and signs compact JWS tokens for every
// algorithm jwtgate verifies. It serves the demo mode, `jwtgate keys`, the
// tests and the benchmark harness; jwtgate itself only verifies.
package sign

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/jwtgate/jwtgate/engine"
)

// Key is a signing key bound to one algorithm.
type Key struct {
	Alg engine.Alg
	Kid string
	// Private is a *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or,
	// for HS*, a []byte secret.
	Private any
}

// RSABits is the size of generated RSA keys.
const RSABits = 2048

// Generate makes a fresh key for alg with the given kid.
func Generate(alg engine.Alg, kid string) (*Key, error) {
	k := &Key{Alg: alg, Kid: kid}
	var err error
	switch alg.Family() {
	case engine.FamilyRSA:
		k.Private, err = rsa.GenerateKey(rand.Reader, RSABits)
	case engine.FamilyEC:
		k.Private, err = ecdsa.GenerateKey(curveFor(alg), rand.Reader)
	case engine.FamilyOKP:
		_, k.Private, err = ed25519.GenerateKey(rand.Reader)
	case engine.FamilyHMAC:
		secret := make([]byte, alg.Hash().Size())
		_, err = rand.Read(secret)
		k.Private = secret
	default:
		err = fmt.Errorf("sign: unsupported algorithm %v", alg)
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// MustGenerate is Generate for tests and demos; it panics on error.
func MustGenerate(alg engine.Alg, kid string) *Key {
	k, err := Generate(alg, kid)
	if err != nil {
		panic(err)
	}
	return k
}

func curveFor(alg engine.Alg) elliptic.Curve {
	switch alg {
	case engine.ES384:
		return elliptic.P384()
	case engine.ES512:
		return elliptic.P521()
	default:
		return elliptic.P256()
	}
}

// Public returns the verification material: the public key, or the secret.
func (k *Key) Public() any {
	switch p := k.Private.(type) {
	case *rsa.PrivateKey:
		return &p.PublicKey
	case *ecdsa.PrivateKey:
		return &p.PublicKey
	case ed25519.PrivateKey:
		return p.Public().(ed25519.PublicKey)
	case []byte:
		return p
	}
	return nil
}

// EngineKey returns the engine key that verifies this key's signatures.
func (k *Key) EngineKey() (*engine.Key, error) {
	return engine.NewKey(k.Alg, k.Kid, k.Public())
}

// Header is the protected header Sign writes.
func (k *Key) Header() map[string]any {
	h := map[string]any{"alg": k.Alg.String(), "typ": "JWT"}
	if k.Kid != "" {
		h["kid"] = k.Kid
	}
	return h
}

// Sign returns a compact JWS of claims (marshalled as JSON) under the
// header {"alg", "typ":"JWT", "kid"}.
func (k *Key) Sign(claims any) (string, error) {
	return k.SignWithHeader(k.Header(), claims)
}

// SignWithHeader marshals header and claims as JSON and signs them.
func (k *Key) SignWithHeader(header, claims any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return k.SignRaw(h, p)
}

// SignRaw signs exactly the given header and payload bytes, so tests can
// build hostile tokens (duplicate members, odd types) with valid signatures.
func (k *Key) SignRaw(header, payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	sig, err := k.SignInput([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// SignInput returns the raw JWS signature of input: PKCS#1 v1.5 or PSS for
// RSA, r‖s (IEEE P1363) for ECDSA, Ed25519, or the HMAC.
func (k *Key) SignInput(input []byte) ([]byte, error) {
	h := k.Alg.Hash()
	var digest []byte
	if h != 0 {
		hh := h.New()
		hh.Write(input)
		digest = hh.Sum(nil)
	}
	switch p := k.Private.(type) {
	case *rsa.PrivateKey:
		if k.Alg >= engine.PS256 && k.Alg <= engine.PS512 {
			return rsa.SignPSS(rand.Reader, p, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
		}
		return rsa.SignPKCS1v15(rand.Reader, p, h, digest)
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, p, digest)
		if err != nil {
			return nil, err
		}
		size := (p.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(p, input), nil
	case []byte:
		m := hmac.New(h.New, p)
		m.Write(input)
		return m.Sum(nil), nil
	}
	return nil, errors.New("sign: key has no private material")
}

// JWK is a JSON Web Key (RFC 7517) as jwtgate writes it.
type JWK struct {
	Kty string `json:"kty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
	Crv string `json:"crv,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	K   string `json:"k,omitempty"`
	D   string `json:"d,omitempty"`
	P   string `json:"p,omitempty"`
	Q   string `json:"q,omitempty"`
	DP  string `json:"dp,omitempty"`
	DQ  string `json:"dq,omitempty"`
	QI  string `json:"qi,omitempty"`
}

func b64(b []byte) string               { return base64.RawURLEncoding.EncodeToString(b) }
func b64int(i *big.Int) string          { return b64(i.Bytes()) }
func b64fixed(i *big.Int, n int) string { return b64(i.FillBytes(make([]byte, n))) }

// PublicJWK returns the public JWK of the key, with "use":"sig" and "alg".
// For an HMAC key it returns the secret as an "oct" key: share it only with
// the verifier.
func (k *Key) PublicJWK() JWK {
	j := JWK{Kid: k.Kid, Use: "sig", Alg: k.Alg.String()}
	switch p := k.Private.(type) {
	case *rsa.PrivateKey:
		j.Kty, j.N, j.E = "RSA", b64int(p.N), b64int(big.NewInt(int64(p.E)))
	case *ecdsa.PrivateKey:
		size := (p.Curve.Params().BitSize + 7) / 8
		j.Kty, j.Crv = "EC", p.Curve.Params().Name
		j.X, j.Y = b64fixed(p.X, size), b64fixed(p.Y, size)
	case ed25519.PrivateKey:
		j.Kty, j.Crv, j.X = "OKP", "Ed25519", b64(p.Public().(ed25519.PublicKey))
	case []byte:
		j.Kty, j.K = "oct", b64(p)
	}
	return j
}

// PrivateJWK returns the JWK with its private members.
func (k *Key) PrivateJWK() JWK {
	j := k.PublicJWK()
	switch p := k.Private.(type) {
	case *rsa.PrivateKey:
		p.Precompute()
		j.D, j.P, j.Q = b64int(p.D), b64int(p.Primes[0]), b64int(p.Primes[1])
		j.DP, j.DQ, j.QI = b64int(p.Precomputed.Dp), b64int(p.Precomputed.Dq), b64int(p.Precomputed.Qinv)
	case *ecdsa.PrivateKey:
		j.D = b64fixed(p.D, (p.Curve.Params().BitSize+7)/8)
	case ed25519.PrivateKey:
		j.D = b64(p.Seed())
	}
	return j
}

// JWKS returns the public JSON Web Key Set {"keys":[...]} of keys.
func JWKS(keys ...*Key) []byte {
	set := struct {
		Keys []JWK `json:"keys"`
	}{Keys: make([]JWK, 0, len(keys))}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.PublicJWK())
	}
	b, _ := json.Marshal(set)
	return b
}

// ParsePrivateJWK reads a key written by PrivateJWK.
func ParsePrivateJWK(data []byte) (*Key, error) {
	var j JWK
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("sign: private JWK: %w", err)
	}
	alg, ok := engine.ParseAlg(j.Alg)
	if !ok {
		return nil, fmt.Errorf("sign: private JWK needs a supported \"alg\", got %q", j.Alg)
	}
	k := &Key{Alg: alg, Kid: j.Kid}
	dec := base64.RawURLEncoding
	num := func(s string) (*big.Int, error) {
		b, err := dec.DecodeString(s)
		if err != nil || len(b) == 0 {
			return nil, fmt.Errorf("sign: private JWK has a bad number")
		}
		return new(big.Int).SetBytes(b), nil
	}
	switch alg.Family() {
	case engine.FamilyRSA:
		n, err1 := num(j.N)
		e, err2 := num(j.E)
		d, err3 := num(j.D)
		p, err4 := num(j.P)
		q, err5 := num(j.Q)
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return nil, err
		}
		priv := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: int(e.Int64())}, D: d, Primes: []*big.Int{p, q}}
		if err := priv.Validate(); err != nil {
			return nil, fmt.Errorf("sign: private JWK: %w", err)
		}
		priv.Precompute()
		k.Private = priv
	case engine.FamilyEC:
		d, err := dec.DecodeString(j.D)
		if err != nil {
			return nil, fmt.Errorf("sign: private JWK has a bad d")
		}
		priv, err := ecdsa.ParseRawPrivateKey(curveFor(alg), d)
		if err != nil {
			return nil, fmt.Errorf("sign: private JWK: %w", err)
		}
		k.Private = priv
	case engine.FamilyOKP:
		seed, err := dec.DecodeString(j.D)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("sign: private JWK has a bad Ed25519 seed")
		}
		k.Private = ed25519.NewKeyFromSeed(seed)
	case engine.FamilyHMAC:
		secret, err := dec.DecodeString(j.K)
		if err != nil || len(secret) == 0 {
			return nil, fmt.Errorf("sign: private JWK has a bad k")
		}
		k.Private = secret
	}
	return k, nil
}
