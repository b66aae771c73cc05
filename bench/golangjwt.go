package bench

import (
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// NewGolangJWTParser returns what a Go team would write today: golang-jwt v5
// with keyfunc v3 looking the key up by kid in the JWKS (keyfunc also
// refuses a token whose alg differs from the JWK's), and the same policy as
// every compared verifier. The HTTP comparison server uses it too.
func NewGolangJWTParser(f *Fixture) (*jwt.Parser, jwt.Keyfunc, error) {
	kf, err := keyfunc.NewJWKSetJSON(f.JWKS)
	if err != nil {
		return nil, nil, err
	}
	methods := make([]string, len(Algs))
	for i, a := range Algs {
		methods[i] = a.String()
	}
	p := jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(f.Now),
	)
	return p, kf.Keyfunc, nil
}

// newGolangJWT binds golang-jwt: one Parser built up front and reused (the
// cheaper way to call it: jwt.Parse builds a Parser per call), claims into
// the default jwt.MapClaims, as jwt.Parse does.
func newGolangJWT(f *Fixture) (Bind, error) {
	p, kf, err := NewGolangJWTParser(f)
	if err != nil {
		return nil, err
	}
	return func(token string) Check {
		return func() error {
			_, err := p.Parse(token, kf)
			return err
		}
	}, nil
}
