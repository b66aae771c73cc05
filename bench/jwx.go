package bench

import (
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// newJWX binds lestrrat-go/jwx v3: jwt.Parse with the parsed JWKS (the key
// is chosen by kid and its "alg" decides the algorithm), validation on,
// exp required. The options are built once and reused.
func newJWX(f *Fixture, keys *KeySet) (Bind, error) {
	set, err := jwk.Parse(keys.JWKS)
	if err != nil {
		return nil, err
	}
	opts := []jwt.ParseOption{
		jwt.WithKeySet(set),
		jwt.WithValidate(true),
		jwt.WithIssuer(keys.Issuer),
		jwt.WithAudience(Audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAcceptableSkew(Leeway),
		jwt.WithClock(jwt.ClockFunc(f.Now)),
	}
	return func(token string) Check {
		raw := []byte(token)
		return func() error {
			_, err := jwt.Parse(raw, opts...)
			return err
		}
	}, nil
}
