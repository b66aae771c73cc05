package engine

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
)

// Key is a trusted verification key, parsed once and bound to exactly one
// algorithm. A Key verifies only signatures of its own algorithm: the
// algorithm comes from the key, never from the token. Keys are immutable and
// safe for concurrent use.
type Key struct {
	alg     Alg
	kid     string
	rsa     *rsa.PublicKey
	rsaKey  *rsaKey // rsa with its modulus precomputed
	ec      *ecdsa.PublicKey
	ecOrder []byte // curve order n, big-endian, one coordinate long
	ed      ed25519.PublicKey
	edKey   *edKey // ed decoded, with its multiplication table
	secret  []byte
	macs    sync.Pool // *macState, for HS*
	pads    *hmacPads // HS256 with the SHA-NI kernel; nil otherwise
	retired atomic.Bool
}

// macState is one reusable HMAC computation.
type macState struct {
	mac hash.Hash
	sum [64]byte
}

// Limits enforced on key material (RFC 8725 §3.5, NIST SP 800-131A).
const (
	MinRSABits = 2048
	MaxRSABits = 8192 // larger keys cost seconds of CPU per verify; no issuer uses them
)

// ErrInvalidKey is returned (wrapped, with the precise reason) when key
// material cannot be bound to the requested algorithm: wrong type or curve,
// too small, a point off its curve, a bad RSA exponent.
var ErrInvalidKey = errors.New("invalid key")

func keyErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidKey}, args...)...)
}

// NewKey binds public key material to alg and returns a Key that verifies
// only alg signatures. public is a *rsa.PublicKey (RS*, PS*: at least 2048
// bits, odd exponent > 1), an *ecdsa.PublicKey (ES256 on P-256, ES384 on
// P-384, ES512 on P-521, point on the curve), an ed25519.PublicKey (EdDSA), or
// a []byte secret (HS*: at least as long as the hash output; it is copied).
// All checks happen here, once, so that verifying does no key parsing.
func NewKey(alg Alg, kid string, public any) (*Key, error) {
	k := &Key{alg: alg, kid: kid}
	switch alg.Family() {
	case FamilyRSA:
		pub, ok := public.(*rsa.PublicKey)
		if !ok {
			return nil, keyErr("%s needs an RSA public key, got %T", alg, public)
		}
		if err := checkRSA(pub); err != nil {
			return nil, err
		}
		if hasROCAFingerprint(pub.N) {
			return nil, keyErr("the RSA modulus has the ROCA fingerprint (CVE-2017-15361): its factors can be recovered")
		}
		rk, err := newRSAKey(pub)
		if err != nil {
			return nil, err
		}
		k.rsa = pub
		k.rsaKey = rk
	case FamilyEC:
		pub, ok := public.(*ecdsa.PublicKey)
		if !ok {
			return nil, keyErr("%s needs an ECDSA public key, got %T", alg, public)
		}
		if err := checkEC(alg, pub); err != nil {
			return nil, err
		}
		k.ec = pub
		size := (pub.Curve.Params().BitSize + 7) / 8
		k.ecOrder = pub.Curve.Params().N.FillBytes(make([]byte, size))
	case FamilyOKP:
		pub, ok := public.(ed25519.PublicKey)
		if !ok {
			return nil, keyErr("%s needs an Ed25519 public key, got %T", alg, public)
		}
		if err := checkEd25519(pub); err != nil {
			return nil, err
		}
		k.ed = append(ed25519.PublicKey(nil), pub...)
		edk, err := newEdKey(k.ed)
		if err != nil {
			return nil, keyErr("%v", err)
		}
		k.edKey = edk
	case FamilyHMAC:
		secret, ok := public.([]byte)
		if !ok {
			return nil, keyErr("%s needs a []byte secret, got %T", alg, public)
		}
		if min := alg.Hash().Size(); len(secret) < min {
			return nil, keyErr("%s secret must be at least %d bytes (the hash size), got %d", alg, min, len(secret))
		}
		k.secret = append([]byte(nil), secret...)
		newHash := hashFunc(alg.Hash())
		k.macs.New = func() any { return &macState{mac: hmac.New(newHash, k.secret)} }
		if alg == HS256 && useSHANI {
			k.pads = newHMACPads(k.secret, true)
		}
	default:
		return nil, keyErr("unsupported algorithm %v", alg)
	}
	return k, nil
}

func checkRSA(pub *rsa.PublicKey) error {
	if pub == nil || pub.N == nil {
		return keyErr("RSA public key is empty")
	}
	if bits := pub.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
		return keyErr("RSA modulus is %d bits; must be %d to %d", bits, MinRSABits, MaxRSABits)
	}
	if pub.E <= 1 || pub.E%2 == 0 {
		return keyErr("RSA public exponent %d must be odd and greater than 1", pub.E)
	}
	if pub.N.Bit(0) == 0 {
		return keyErr("RSA modulus is even")
	}
	return nil
}

func checkEC(alg Alg, pub *ecdsa.PublicKey) error {
	if pub == nil || pub.Curve == nil || pub.X == nil || pub.Y == nil {
		return keyErr("ECDSA public key is empty")
	}
	want := map[Alg]elliptic.Curve{ES256: elliptic.P256(), ES384: elliptic.P384(), ES512: elliptic.P521()}[alg]
	if pub.Curve != want {
		return keyErr("%s needs curve %s, got %s", alg, want.Params().Name, pub.Curve.Params().Name)
	}
	if _, err := pub.ECDH(); err != nil { // validates the point is on the curve
		return keyErr("ECDSA public point is not on %s", want.Params().Name)
	}
	return nil
}

func hashFunc(h crypto.Hash) func() hash.Hash {
	switch h {
	case crypto.SHA384:
		return sha512.New384
	case crypto.SHA512:
		return sha512.New
	default:
		return sha256.New
	}
}

// Alg returns the one algorithm the key verifies.
func (k *Key) Alg() Alg { return k.alg }

// Kid returns the key ID ("" if the key has none).
func (k *Key) Kid() string { return k.kid }

// Public returns the public key: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey. It returns nil for an HMAC key: the secret stays inside.
func (k *Key) Public() crypto.PublicKey {
	switch {
	case k.rsa != nil:
		return k.rsa
	case k.ec != nil:
		return k.ec
	case k.ed != nil:
		return k.ed
	}
	return nil
}

// Equal reports whether k and o have the same algorithm, kid and key material.
func (k *Key) Equal(o *Key) bool {
	if k == o {
		return true
	}
	if k == nil || o == nil || k.alg != o.alg || k.kid != o.kid {
		return false
	}
	switch {
	case k.rsa != nil:
		return k.rsa.Equal(o.rsa)
	case k.ec != nil:
		return o.ec != nil && k.ec.Equal(o.ec)
	case k.ed != nil:
		return k.ed.Equal(o.ed)
	}
	return len(k.secret) == len(o.secret) && subtle.ConstantTimeCompare(k.secret, o.secret) == 1
}

// Retire marks the key as removed by its issuer. Verified tokens cached under
// a retired key are no longer served; key stores call it when a refresh drops
// the key.
func (k *Key) Retire() { k.retired.Store(true) }

// Retired reports whether Retire has been called.
func (k *Key) Retired() bool { return k.retired.Load() }

// scratchSize is the scratch a Key needs to verify: a digest and an ECDSA
// signature re-encoded as DER.
const scratchSize = 64 + maxDERSig

// Verify checks sig over signingInput (the token's "header.payload"). It is
// for callers holding a key; Verifier.Verify is the usual entry point.
func (k *Key) Verify(signingInput, sig []byte) error {
	var scratch [scratchSize]byte
	return k.verify(signingInput, sig, scratch[:])
}

// verify checks sig over input using scratch (at least scratchSize bytes).
func (k *Key) verify(input, sig, scratch []byte) error {
	if len(sig) == 0 {
		return errSigEmpty
	}
	switch k.alg.Family() {
	case FamilyHMAC:
		return k.verifyHMAC(input, sig)
	case FamilyOKP:
		if len(sig) != ed25519.SignatureSize {
			return errSigLength
		}
		if !k.edKey.verify(input, sig) {
			return ErrBadSignature
		}
		return nil
	case FamilyRSA:
		digest := digestInto(scratch[:0], k.alg.Hash(), input)
		if len(sig) != k.rsa.Size() {
			return errSigLength
		}
		var ok bool
		if algs[k.alg].pss {
			ok = k.rsaKey.verifyPSS(k.alg.Hash(), digest, sig)
		} else {
			ok = k.rsaKey.verifyPKCS1v15(k.alg.Hash(), digest, sig)
		}
		if !ok {
			return ErrBadSignature
		}
		return nil
	case FamilyEC:
		if len(sig) != algs[k.alg].sigLen {
			if looksLikeDER(sig) {
				return errSigECDER // the usual interop mistake: name it
			}
			return errSigLength
		}
		half := len(sig) / 2
		if !inOrderRange(sig[:half], k.ecOrder) || !inOrderRange(sig[half:], k.ecOrder) {
			return errSigECRange
		}
		digest := digestInto(scratch[:0], k.alg.Hash(), input)
		der := appendDERSignature(scratch[len(digest):len(digest)], sig[:half], sig[half:])
		if !ecdsa.VerifyASN1(k.ec, digest, der) {
			return ErrBadSignature
		}
		return nil
	}
	return ErrUnsupportedAlg
}

// checkMAC compares sig, in constant time, with mac, the HMAC-SHA256 of
// the signing input under k (an HS256 key with pads), and returns what
// verify would: the same errors for an empty or mis-sized signature.
func (k *Key) checkMAC(mac *[32]byte, sig []byte) error {
	switch {
	case len(sig) == 0:
		return errSigEmpty
	case len(sig) != len(mac):
		return errSigLength
	case !equalMAC(mac, (*[32]byte)(sig)):
		return ErrBadSignature
	}
	return nil
}

func (k *Key) verifyHMAC(input, sig []byte) error {
	if len(sig) != algs[k.alg].sigLen {
		return errSigLength
	}
	if k.pads != nil {
		var r hmacRun
		r.start(k.pads, input, true)
		return k.checkMAC(r.finish(), sig)
	}
	st := k.macs.Get().(*macState)
	st.mac.Reset()
	st.mac.Write(input)
	ok := hmac.Equal(st.mac.Sum(st.sum[:0]), sig)
	k.macs.Put(st)
	if !ok {
		return ErrBadSignature
	}
	return nil
}

// digestInto appends the digest of input under h to dst.
func digestInto(dst []byte, h crypto.Hash, input []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(input)
		return append(dst, d[:]...)
	case crypto.SHA512:
		d := sha512.Sum512(input)
		return append(dst, d[:]...)
	default:
		d := sha256.Sum256(input)
		return append(dst, d[:]...)
	}
}

// inOrderRange reports whether the big-endian integer v (as long as n) lies
// in [1, n-1]. Both are public values, so a variable-time compare is fine.
func inOrderRange(v, n []byte) bool {
	zero := true
	for _, b := range v {
		if b != 0 {
			zero = false
			break
		}
	}
	if zero {
		return false
	}
	for i := range v {
		if v[i] != n[i] {
			return v[i] < n[i]
		}
	}
	return false // v == n
}

// looksLikeDER reports whether sig has the shape of an ASN.1 DER ECDSA
// signature: a SEQUENCE whose length matches, starting with an INTEGER.
func looksLikeDER(sig []byte) bool {
	if len(sig) < 8 || sig[0] != 0x30 {
		return false
	}
	n, body := int(sig[1]), sig[2:]
	if sig[1] == 0x81 {
		n, body = int(sig[2]), sig[3:]
	}
	return n == len(body) && body[0] == 0x02
}

// maxDERSig is the longest DER ECDSA signature jwtgate builds (P-521):
// SEQUENCE header (3) + two INTEGERs of up to 2+67 bytes.
const maxDERSig = 3 + 2*(2+67)

// appendDERSignature appends the ASN.1 DER encoding of the ECDSA signature
// (r, s), given as fixed-length big-endian integers, to dst.
func appendDERSignature(dst, r, s []byte) []byte {
	r, s = trimLeadingZeros(r), trimLeadingZeros(s)
	rl, sl := derIntLen(r), derIntLen(s)
	body := 2 + rl + 2 + sl
	dst = append(dst, 0x30)
	if body >= 0x80 {
		dst = append(dst, 0x81)
	}
	dst = append(dst, byte(body))
	dst = appendDERInt(dst, r, rl)
	return appendDERInt(dst, s, sl)
}

func trimLeadingZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// derIntLen is the content length of a positive INTEGER with magnitude b.
func derIntLen(b []byte) int {
	if b[0]&0x80 != 0 {
		return len(b) + 1
	}
	return len(b)
}

func appendDERInt(dst, b []byte, n int) []byte {
	dst = append(dst, 0x02, byte(n))
	if n > len(b) {
		dst = append(dst, 0)
	}
	return append(dst, b...)
}
