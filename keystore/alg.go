package keystore

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
)

// defaultAlgorithms is the allow-list for keys without "alg": RS256 for RSA,
// the ES* algorithm of the key's curve, EdDSA for Ed25519.
var defaultAlgorithms = []engine.Alg{engine.RS256, engine.ES256, engine.ES384, engine.ES512, engine.EdDSA}

// curveOf returns the curve an ES* algorithm is bound to.
func curveOf(alg engine.Alg) elliptic.Curve {
	switch alg {
	case engine.ES256:
		return elliptic.P256()
	case engine.ES384:
		return elliptic.P384()
	case engine.ES512:
		return elliptic.P521()
	}
	return nil
}

// inferAlg picks the algorithm of a key without "alg": the first allowed
// algorithm that fits the key's type and curve. HMAC secrets never get one.
func inferAlg(pub any, allowed []engine.Alg) (engine.Alg, error) {
	if len(allowed) == 0 {
		allowed = defaultAlgorithms
	}
	var family engine.Family
	var curve elliptic.Curve
	desc := ""
	switch p := pub.(type) {
	case *rsa.PublicKey:
		family, desc = engine.FamilyRSA, "an RSA key"
	case *ecdsa.PublicKey:
		family, curve, desc = engine.FamilyEC, p.Curve, "an EC "+p.Curve.Params().Name+" key"
	case ed25519.PublicKey:
		family, desc = engine.FamilyOKP, "an Ed25519 key"
	case []byte:
		return engine.AlgUnknown, fmt.Errorf("%w: an oct key needs \"alg\": an HMAC algorithm is never inferred", ErrNoAlgorithm)
	default:
		return engine.AlgUnknown, fmt.Errorf("%w: unsupported public key type %T", ErrUnsupportedKey, pub)
	}
	for _, a := range allowed {
		if a.Family() == family && (family != engine.FamilyEC || curveOf(a) == curve) {
			return a, nil
		}
	}
	return engine.AlgUnknown, fmt.Errorf("%w: %s without \"alg\" fits none of the allowed algorithms (%s)", ErrNoAlgorithm, desc, algList(allowed))
}

func algList(algs []engine.Alg) string {
	names := make([]string, len(algs))
	for i, a := range algs {
		names[i] = a.String()
	}
	return strings.Join(names, ", ")
}
