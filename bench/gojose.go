package bench

import (
	"encoding/json"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Errors of the checks go-jose leaves to its caller.
var (
	errJoseUnknownKid = errors.New("go-jose: no key with the token's kid")
	errJoseAlg        = errors.New("go-jose: token alg differs from the key's alg")
	errJoseNoExp      = errors.New("go-jose: token has no exp")
)

// joseClaims are the registered claims plus scope, decoded in one pass.
type joseClaims struct {
	jwt.Claims
	Scope string `json:"scope"`
}

// newGoJose binds go-jose v4: jwt.ParseSigned with the allowed algorithms,
// the key found by kid in the JWKS, then Claims and ValidateWithLeeway. go-jose
// leaves three checks to its caller, written here as a careful user would:
// the key's alg must equal the token's, exp must be present (Validate skips
// a missing exp), and the time comes from the shared clock.
func newGoJose(f *Fixture, trusted *KeySet) (Bind, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(trusted.JWKS, &set); err != nil {
		return nil, err
	}
	algs := make([]jose.SignatureAlgorithm, len(Algs))
	for i, a := range Algs {
		algs[i] = jose.SignatureAlgorithm(a.String())
	}
	audience := jwt.Audience{Audience}
	verify := func(token string) error {
		tok, err := jwt.ParseSigned(token, algs)
		if err != nil {
			return err
		}
		h := tok.Headers[0]
		keys := set.Key(h.KeyID)
		if len(keys) != 1 {
			return errJoseUnknownKid
		}
		if keys[0].Algorithm != h.Algorithm {
			return errJoseAlg
		}
		var c joseClaims
		if err := tok.Claims(keys[0].Key, &c); err != nil {
			return err
		}
		if c.Expiry == nil {
			return errJoseNoExp
		}
		return c.ValidateWithLeeway(jwt.Expected{Issuer: trusted.Issuer, AnyAudience: audience, Time: f.Now()}, Leeway)
	}
	return func(token string) Check {
		return func() error { return verify(token) }
	}, nil
}
