package keystore

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"

	"github.com/jwtgate/jwtgate/engine"
)

// Bounds on a JWK Set.
const (
	// DefaultMaxBody is the default size bound of a JWKS or discovery
	// document, fetched or read from a file (README.md, "Defaults": 1 MiB).
	DefaultMaxBody = 1 << 20
	// MaxKeys is the most keys a set may list; real issuers publish a handful.
	MaxKeys = 1024
	// maxX5C bounds the certificate chain of one JWK.
	maxX5C = 16
	// maxRSAExponent is the largest public exponent crypto/rsa accepts.
	maxRSAExponent = 1<<31 - 1
)

// ParseOptions tunes ParseJWKS.
type ParseOptions struct {
	// Algorithms is the allow-list for keys without "alg": the first entry
	// that fits the key type (and curve) is the key's algorithm. Empty means
	// RS256 for RSA, ES256/ES384/ES512 by curve, EdDSA for Ed25519. oct keys
	// without "alg" are never given one.
	Algorithms []engine.Alg
	// MaxSize bounds the document in bytes. 0 means DefaultMaxBody.
	MaxSize int64
	// Fetched marks a set fetched over the network: one holding a
	// symmetric secret (kty "oct") is rejected with ErrPublishedSecret.
	Fetched bool
}

// ParseJWKS reads a JSON Web Key Set (RFC 7517 §5) and returns its usable
// verification keys, each bound to one algorithm, in document order.
//
// Every key is checked when it is loaded: type, curve and size, "use" and
// "key_ops", "alg" agreeing with kty/crv, x5c agreeing with the key members.
// A key that fails is skipped and reported in skipped (a *KeyError with the
// precise reason). err is non-nil only when the document is not a JWKS, is
// too large, mixes symmetric secrets and asymmetric keys (ErrMixedSymmetry,
// judged on every key listed, usable or not, whatever the source), holds a
// secret while opts.Fetched (ErrPublishedSecret), is ambiguous (two keys
// with the same kid and algorithm), or has no usable key left.
func ParseJWKS(data []byte, opts ParseOptions) (keys []*engine.Key, skipped []error, err error) {
	max := opts.MaxSize
	if max <= 0 {
		max = DefaultMaxBody
	}
	if int64(len(data)) > max {
		return nil, nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrDocumentTooLarge, len(data), max)
	}
	doc, err := readObject(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotJWKS, err)
	}
	raw, ok := doc["keys"]
	if !ok {
		return nil, nil, fmt.Errorf("%w: the object has no \"keys\" member", ErrNotJWKS)
	}
	if raw[0] != '[' {
		return nil, nil, fmt.Errorf("%w: \"keys\" must be an array, got %s", ErrNotJWKS, jsonType(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, nil, fmt.Errorf("%w: \"keys\": %v", ErrNotJWKS, err)
	}
	if len(items) > MaxKeys {
		return nil, nil, fmt.Errorf("%w: %d keys, at most %d are accepted", ErrTooManyKeys, len(items), MaxKeys)
	}
	if err := checkSymmetry(items, opts.Fetched); err != nil {
		return nil, nil, err
	}
	index := make([]int, 0, len(items))
	for i, item := range items {
		k, kid, err := parseJWK(item, opts.Algorithms)
		if err != nil {
			skipped = append(skipped, &KeyError{Index: i, Kid: kid, Err: err})
			continue
		}
		keys = append(keys, k)
		index = append(index, i)
	}
	if err := checkAmbiguous(keys, func(i int) string { return fmt.Sprintf("#%d", index[i]) }); err != nil {
		return nil, skipped, err
	}
	if len(keys) == 0 {
		if len(items) == 0 {
			return nil, skipped, fmt.Errorf("%w: the set has no keys", ErrNoUsableKeys)
		}
		return nil, skipped, fmt.Errorf("%w: all %d keys were skipped; first: %w", ErrNoUsableKeys, len(items), skipped[0])
	}
	return keys, skipped, nil
}

// checkSymmetry rejects a set that lists both a symmetric secret and an
// asymmetric key, or, when fetched, any secret. It reads each item's kty
// (items that are not objects with a string kty are left to parseJWK).
func checkSymmetry(items []json.RawMessage, fetched bool) error {
	secret, public := -1, -1
	var publicKty string
	for i, item := range items {
		obj, err := readObject(item)
		if err != nil {
			continue
		}
		switch kty, _, _ := obj.str("kty"); kty {
		case "oct":
			if fetched {
				return fmt.Errorf("%w: key #%d (kty oct) is an HMAC secret published on a URL, where anyone can fetch it; "+
					"remove it from the published set, rotate it, and give jwtgate the new secret in a key file (jwks_file) or an inline key set", ErrPublishedSecret, i)
			}
			if secret < 0 {
				secret = i
			}
		case "RSA", "EC", "OKP":
			if public < 0 {
				public, publicKty = i, kty
			}
		}
	}
	if secret >= 0 && public >= 0 {
		return fmt.Errorf("%w: key #%d is an HMAC secret (kty oct) and key #%d a public key (kty %s); "+
			"keep secrets and public keys in separate sets (configure them as separate issuers)", ErrMixedSymmetry, secret, public, publicKty)
	}
	return nil
}

// checkKeySymmetry rejects an issuer's keys, gathered from all its sources
// (inline set, pre-built keys, key files, PEM files, fetched set), when they
// hold both an HMAC secret and a public key; name describes key i in the
// error. It is checkSymmetry's rule for the union of the sources, so that
// no combination of sources gets round it.
func checkKeySymmetry(keys []*engine.Key, name func(i int) string) error {
	secret, public := -1, -1
	for i, k := range keys {
		if k.Alg().Family() == engine.FamilyHMAC {
			if secret < 0 {
				secret = i
			}
		} else if public < 0 {
			public = i
		}
	}
	if secret >= 0 && public >= 0 {
		return fmt.Errorf("%w: key %s is an HMAC secret (%s) and key %s a public key (%s); "+
			"keep secrets and public keys in separate sets (configure them as separate issuers)",
			ErrMixedSymmetry, name(secret), keys[secret].Alg(), name(public), keys[public].Alg())
	}
	return nil
}

// checkAmbiguous rejects two keys with the same non-empty kid and the same
// algorithm; name describes key i in the error.
func checkAmbiguous(keys []*engine.Key, name func(i int) string) error {
	type kidAlg struct {
		kid string
		alg engine.Alg
	}
	seen := make(map[kidAlg]int, len(keys))
	for i, k := range keys {
		if k.Kid() == "" {
			continue
		}
		ka := kidAlg{k.Kid(), k.Alg()}
		if j, dup := seen[ka]; dup {
			return fmt.Errorf("%w: kid %q with alg %s is both key %s and key %s", ErrAmbiguousKid, k.Kid(), k.Alg(), name(j), name(i))
		}
		seen[ka] = i
	}
	return nil
}

// parseJWK reads one JWK and binds it to its algorithm. kid is returned even
// on error, when readable, to name the key in the report.
func parseJWK(raw json.RawMessage, allowed []engine.Alg) (key *engine.Key, kid string, err error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, "", fmt.Errorf("%w: a JWK must be a JSON object, got %s", ErrMalformedJWK, jsonType(raw))
	}
	obj, err := readObject(raw)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrMalformedJWK, err)
	}
	if kid, _, err = obj.str("kid"); err != nil {
		return nil, "", err
	}
	kty, present, err := obj.str("kty")
	if err != nil {
		return nil, kid, err
	}
	if !present {
		return nil, kid, fmt.Errorf("%w: member \"kty\" is required", ErrMalformedJWK)
	}
	if err := checkUse(obj); err != nil {
		return nil, kid, err
	}
	alg, hasAlg, err := jwkAlg(obj)
	if err != nil {
		return nil, kid, err
	}
	cert, err := leafCertificate(obj)
	if err != nil {
		return nil, kid, err
	}
	var pub any
	var family engine.Family
	switch kty {
	case "RSA":
		family = engine.FamilyRSA
		pub, err = rsaMaterial(obj, cert)
	case "EC":
		family = engine.FamilyEC
		pub, err = ecMaterial(obj, cert)
	case "OKP":
		family = engine.FamilyOKP
		pub, err = okpMaterial(obj, cert)
	case "oct":
		family = engine.FamilyHMAC
		pub, err = octMaterial(obj, cert)
	default:
		err = fmt.Errorf("%w: kty %q (jwtgate verifies RSA, EC, OKP and oct keys)", ErrUnsupportedKey, kty)
	}
	if err != nil {
		return nil, kid, err
	}
	if hasAlg {
		if alg.Family() != family {
			return nil, kid, fmt.Errorf("%w: alg %s needs kty %s, the JWK has kty %s", engine.ErrInvalidKey, alg, ktyName(alg.Family()), kty)
		}
	} else if alg, err = inferAlg(pub, allowed); err != nil {
		return nil, kid, err
	}
	return bindKey(alg, kid, pub)
}

// bindKey makes the engine key, which checks size, curve, exponent and
// known-weak material (ROCA moduli, small-order Ed25519 points).
func bindKey(alg engine.Alg, kid string, pub any) (*engine.Key, string, error) {
	k, err := engine.NewKey(alg, kid, pub)
	if err != nil {
		return nil, kid, err
	}
	return k, kid, nil
}

// keyOpUse maps a key_ops value to the "use" it implies (RFC 7517 §4.3).
func keyOpUse(op string) string {
	switch op {
	case "sign", "verify":
		return "sig"
	case "encrypt", "decrypt", "wrapKey", "unwrapKey", "deriveKey", "deriveBits":
		return "enc"
	}
	return ""
}

// checkUse applies "use" and "key_ops": only keys meant for verification
// are used, and the two members must agree when both are present.
func checkUse(obj object) error {
	use, hasUse, err := obj.str("use")
	if err != nil {
		return err
	}
	ops, hasOps, err := obj.strs("key_ops")
	if err != nil {
		return err
	}
	for i, op := range ops {
		if slices.Contains(ops[:i], op) {
			return fmt.Errorf("%w: key_ops lists %q twice", ErrMalformedJWK, op)
		}
	}
	if hasUse && hasOps && (use == "sig" || use == "enc") {
		for _, op := range ops {
			if u := keyOpUse(op); u != "" && u != use {
				return fmt.Errorf("%w: use is %q but key_ops has %q", ErrKeyUseConflict, use, op)
			}
		}
	}
	if hasUse && use != "sig" {
		return fmt.Errorf("%w: use is %q, not \"sig\"", ErrNotForVerification, use)
	}
	if hasOps && !slices.Contains(ops, "verify") {
		return fmt.Errorf("%w: key_ops %q does not include \"verify\"", ErrNotForVerification, ops)
	}
	return nil
}

// jwkAlg reads "alg": a supported signature algorithm, or absent.
func jwkAlg(obj object) (engine.Alg, bool, error) {
	name, present, err := obj.str("alg")
	if err != nil || !present {
		return engine.AlgUnknown, false, err
	}
	alg, ok := engine.ParseAlg(name)
	if !ok {
		return engine.AlgUnknown, true, fmt.Errorf("%w: alg %q is not a supported signature algorithm", ErrUnsupportedKey, name)
	}
	return alg, true, nil
}

// rejectPrivate refuses private members in a public key.
func rejectPrivate(obj object, kty string, names ...string) error {
	for _, n := range names {
		if _, ok := obj[n]; ok {
			return fmt.Errorf("%w: the %s JWK has the private member %q", ErrPrivateKeyMaterial, kty, n)
		}
	}
	return nil
}

func rsaMaterial(obj object, cert *x509.Certificate) (*rsa.PublicKey, error) {
	if err := rejectPrivate(obj, "RSA", "d", "p", "q", "dp", "dq", "qi", "oth"); err != nil {
		return nil, err
	}
	n, hasN, err := obj.bytesMember("n")
	if err != nil {
		return nil, err
	}
	e, hasE, err := obj.bytesMember("e")
	if err != nil {
		return nil, err
	}
	var certKey *rsa.PublicKey
	if cert != nil {
		var ok bool
		if certKey, ok = cert.PublicKey.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("%w: kty is RSA but the x5c certificate holds a %s key", ErrCertificateMismatch, cert.PublicKeyAlgorithm)
		}
	}
	switch {
	case !hasN && !hasE && certKey != nil:
		return certKey, nil
	case !hasN || !hasE:
		return nil, fmt.Errorf("%w: an RSA JWK needs both \"n\" and \"e\" (or an x5c certificate)", ErrMalformedJWK)
	}
	for len(e) > 1 && e[0] == 0 {
		e = e[1:]
	}
	exp := new(big.Int).SetBytes(e)
	if !exp.IsInt64() || exp.Int64() > maxRSAExponent {
		return nil, fmt.Errorf("%w: RSA public exponent is %d bits; at most 31 are supported", engine.ErrInvalidKey, exp.BitLen())
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}
	if certKey != nil && !certKey.Equal(pub) {
		return nil, fmt.Errorf("%w: \"n\"/\"e\" differ from the certificate's RSA key", ErrCertificateMismatch)
	}
	return pub, nil
}

// curves maps JWK crv names (RFC 7518 §6.2.1.1) to curves.
var curves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

func ecMaterial(obj object, cert *x509.Certificate) (*ecdsa.PublicKey, error) {
	if err := rejectPrivate(obj, "EC", "d"); err != nil {
		return nil, err
	}
	crv, present, err := obj.str("crv")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, fmt.Errorf("%w: an EC JWK needs \"crv\"", ErrMalformedJWK)
	}
	curve, ok := curves[crv]
	if !ok {
		return nil, fmt.Errorf("%w: EC curve %q (jwtgate verifies P-256, P-384 and P-521)", ErrUnsupportedKey, crv)
	}
	x, hasX, err := obj.bytesMember("x")
	if err != nil {
		return nil, err
	}
	y, hasY, err := obj.bytesMember("y")
	if err != nil {
		return nil, err
	}
	var certKey *ecdsa.PublicKey
	if cert != nil {
		if certKey, ok = cert.PublicKey.(*ecdsa.PublicKey); !ok {
			return nil, fmt.Errorf("%w: kty is EC but the x5c certificate holds a %s key", ErrCertificateMismatch, cert.PublicKeyAlgorithm)
		}
		if certKey.Curve != curve {
			return nil, fmt.Errorf("%w: crv is %s but the certificate's key is on %s", ErrCertificateMismatch, crv, certKey.Curve.Params().Name)
		}
	}
	switch {
	case !hasX && !hasY && certKey != nil:
		return certKey, nil
	case !hasX || !hasY:
		return nil, fmt.Errorf("%w: an EC JWK needs both \"x\" and \"y\" (or an x5c certificate)", ErrMalformedJWK)
	}
	size := (curve.Params().BitSize + 7) / 8
	if len(x) != size || len(y) != size {
		return nil, fmt.Errorf("%w: %s coordinates must be %d bytes each, got x %d and y %d", ErrMalformedJWK, crv, size, len(x), len(y))
	}
	pub := &ecdsa.PublicKey{Curve: curve, X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	if certKey != nil && !certKey.Equal(pub) {
		return nil, fmt.Errorf("%w: \"x\"/\"y\" differ from the certificate's EC key", ErrCertificateMismatch)
	}
	return pub, nil
}

func okpMaterial(obj object, cert *x509.Certificate) (ed25519.PublicKey, error) {
	if err := rejectPrivate(obj, "OKP", "d"); err != nil {
		return nil, err
	}
	crv, present, err := obj.str("crv")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, fmt.Errorf("%w: an OKP JWK needs \"crv\"", ErrMalformedJWK)
	}
	if crv != "Ed25519" {
		return nil, fmt.Errorf("%w: OKP curve %q (jwtgate verifies Ed25519)", ErrUnsupportedKey, crv)
	}
	x, hasX, err := obj.bytesMember("x")
	if err != nil {
		return nil, err
	}
	var certKey ed25519.PublicKey
	if cert != nil {
		var ok bool
		if certKey, ok = cert.PublicKey.(ed25519.PublicKey); !ok {
			return nil, fmt.Errorf("%w: kty is OKP but the x5c certificate holds a %s key", ErrCertificateMismatch, cert.PublicKeyAlgorithm)
		}
	}
	switch {
	case !hasX && certKey != nil:
		return certKey, nil
	case !hasX:
		return nil, fmt.Errorf("%w: an OKP JWK needs \"x\" (or an x5c certificate)", ErrMalformedJWK)
	}
	if len(x) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: an Ed25519 \"x\" must be %d bytes, got %d", ErrMalformedJWK, ed25519.PublicKeySize, len(x))
	}
	pub := ed25519.PublicKey(x)
	if certKey != nil && !certKey.Equal(pub) {
		return nil, fmt.Errorf("%w: \"x\" differs from the certificate's Ed25519 key", ErrCertificateMismatch)
	}
	return pub, nil
}

func octMaterial(obj object, cert *x509.Certificate) ([]byte, error) {
	if cert != nil {
		return nil, fmt.Errorf("%w: an oct key cannot have an x5c certificate", ErrMalformedJWK)
	}
	k, present, err := obj.bytesMember("k")
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, fmt.Errorf("%w: an oct JWK needs \"k\"", ErrMalformedJWK)
	}
	return k, nil
}

// ktyName is the JWK kty of a key family.
func ktyName(f engine.Family) string {
	switch f {
	case engine.FamilyRSA:
		return "RSA"
	case engine.FamilyEC:
		return "EC"
	case engine.FamilyOKP:
		return "OKP"
	case engine.FamilyHMAC:
		return "oct"
	}
	return "unknown"
}
