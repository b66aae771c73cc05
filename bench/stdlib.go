package bench

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

var (
	errStdMalformed  = errors.New("stdlib: token is not three base64url segments")
	errStdUnknownKid = errors.New("stdlib: no key with the token's kid")
	errStdBadSig     = errors.New("stdlib: signature is invalid")
)

// newStdlib binds the bare standard-library primitive: the floor any JWT
// verifier stands on. Bind splits and decodes the token and picks the key by
// kid; the Check does only what cannot be avoided, the hash and the
// signature verification with the key's algorithm (for HMAC a reused MAC that
// allocates nothing). It reads no claims.
func newStdlib(_ *Fixture, set *KeySet) (Bind, error) {
	byKid := make(map[string]*sign.Key, len(set.Keys))
	for _, k := range set.Keys {
		byKid[k.Kid] = k
	}
	return func(token string) Check {
		input, sig, kid, err := splitForPrimitive(token)
		if err != nil {
			return failing(err)
		}
		k, ok := byKid[kid]
		if !ok {
			return failing(errStdUnknownKid)
		}
		c, err := primitive(k, input, sig)
		if err != nil {
			return failing(err)
		}
		return c
	}, nil
}

func failing(err error) Check { return func() error { return err } }

// splitForPrimitive returns the signing input, the decoded signature and the
// header's kid.
func splitForPrimitive(token string) (input, sig []byte, kid string, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, nil, "", errStdMalformed
	}
	hdr, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, nil, "", errStdMalformed
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, nil, "", errStdMalformed
	}
	if sig, err = b64.DecodeString(parts[2]); err != nil {
		return nil, nil, "", errStdMalformed
	}
	return []byte(parts[0] + "." + parts[1]), sig, h.Kid, nil
}

// primitive returns the hash-and-verify of sig over input with k's algorithm.
func primitive(k *sign.Key, input, sig []byte) (Check, error) {
	switch k.Alg {
	case engine.RS256:
		pub := k.Public().(*rsa.PublicKey)
		return func() error {
			d := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig)
		}, nil
	case engine.PS256:
		pub := k.Public().(*rsa.PublicKey)
		opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		return func() error {
			d := sha256.Sum256(input)
			return rsa.VerifyPSS(pub, crypto.SHA256, d[:], sig, opts)
		}, nil
	case engine.ES256:
		pub := k.Public().(*ecdsa.PublicKey)
		if len(sig) != 64 {
			return nil, errStdBadSig
		}
		// The JWS r‖s form re-encoded once as the DER crypto/ecdsa takes.
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])})
		if err != nil {
			return nil, err
		}
		return func() error {
			d := sha256.Sum256(input)
			if !ecdsa.VerifyASN1(pub, d[:], der) {
				return errStdBadSig
			}
			return nil
		}, nil
	case engine.EdDSA:
		pub := k.Public().(ed25519.PublicKey)
		return func() error {
			if !ed25519.Verify(pub, input, sig) {
				return errStdBadSig
			}
			return nil
		}, nil
	case engine.HS256:
		mac := hmac.New(sha256.New, k.Public().([]byte))
		sum := make([]byte, 0, sha256.Size)
		return func() error {
			mac.Reset()
			mac.Write(input)
			if !hmac.Equal(mac.Sum(sum[:0]), sig) {
				return errStdBadSig
			}
			return nil
		}, nil
	}
	return nil, fmt.Errorf("stdlib: no primitive for %s", k.Alg)
}
