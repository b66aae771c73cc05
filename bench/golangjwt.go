package bench

import (
	"errors"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// NewGolangJWTParser returns what a Go team would write today: golang-jwt v5
// with keyfunc v3 looking the key up by kid in set's JWKS (keyfunc also
// refuses a token whose alg differs from the JWK's), and the same policy as
// every compared verifier, for set's issuer.
func NewGolangJWTParser(f *Fixture, set *KeySet) (*jwt.Parser, jwt.Keyfunc, error) {
	kf, err := keyfunc.NewJWKSetJSON(set.JWKS)
	if err != nil {
		return nil, nil, err
	}
	return golangJWTParser(f, jwt.WithIssuer(set.Issuer)), kf.Keyfunc, nil
}

// golangJWTParser returns a golang-jwt Parser with the shared policy, but
// for the issuer, plus extra.
func golangJWTParser(f *Fixture, extra ...jwt.ParserOption) *jwt.Parser {
	methods := make([]string, len(Algs))
	for i, a := range Algs {
		methods[i] = a.String()
	}
	return jwt.NewParser(append([]jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(f.Now),
	}, extra...)...)
}

// errUntrustedIssuer reports a token whose iss is neither key set's issuer.
var errUntrustedIssuer = errors.New("golang-jwt: token iss is not a trusted issuer")

// NewGolangJWTIssuersParser returns golang-jwt v5 trusting both of f's key
// sets, as a Go team would write it for two issuers (WithIssuer takes one):
// the Keyfunc looks the key up, with keyfunc v3, in the set of the token's
// iss, and refuses any other iss; the rest of the policy is the shared one.
// The HTTP comparison server uses it.
func NewGolangJWTIssuersParser(f *Fixture) (*jwt.Parser, jwt.Keyfunc, error) {
	bySet := make(map[string]jwt.Keyfunc, 2)
	for _, set := range f.Sets() {
		kf, err := keyfunc.NewJWKSetJSON(set.JWKS)
		if err != nil {
			return nil, nil, err
		}
		bySet[set.Issuer] = kf.Keyfunc
	}
	kf := func(t *jwt.Token) (any, error) {
		iss, err := t.Claims.GetIssuer()
		if err != nil {
			return nil, err
		}
		setKF, ok := bySet[iss]
		if !ok {
			return nil, errUntrustedIssuer
		}
		return setKF(t)
	}
	return golangJWTParser(f), kf, nil
}

// newGolangJWT binds golang-jwt: one Parser built up front and reused (the
// cheaper way to call it: jwt.Parse builds a Parser per call), claims into
// the default jwt.MapClaims, as jwt.Parse does.
func newGolangJWT(f *Fixture, set *KeySet) (Bind, error) {
	p, kf, err := NewGolangJWTParser(f, set)
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
