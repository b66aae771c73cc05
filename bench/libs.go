package bench

import (
	"errors"
	"fmt"

	"github.com/jwtgate/jwtgate/engine"
)

// Check verifies one bound token once; nil means the token was accepted.
type Check func() error

// Bind prepares the verification of one token and returns the Check that
// verifies it. Everything a library does per request happens in the Check;
// Bind only holds on to the token (and, for the bare primitive, decodes it:
// the primitive is defined as the cryptography alone).
type Bind func(token string) Check

// Lib is one compared verifier.
type Lib struct {
	// Name labels the library in benchmark names (lib=Name) and reports.
	Name string
	// Modules are the Go modules the library comes from, for the report.
	Modules []string
	// Primitive marks the bare signature primitive, which reads no claims.
	Primitive bool
	// New configures the library for f and one of its key sets: one
	// verifier trusting set.JWKS for set.Issuer, allowing every algorithm
	// of Algs, enforcing the same policy as the others.
	New func(f *Fixture, set *KeySet) (Bind, error)
}

// Names of the two references the report compares every library with.
const (
	BaselineLib  = "golang-jwt" // what a Go team would write today
	PrimitiveLib = "stdlib"     // the cryptography alone: the floor
)

// Libs lists the compared verifiers in report order.
var Libs = []Lib{
	{Name: "jwtgate", Modules: []string{"github.com/jwtgate/jwtgate"}, New: newJWTGate},
	{Name: "jwtgate-cached", Modules: []string{"github.com/jwtgate/jwtgate"}, New: newJWTGateCached},
	{Name: BaselineLib, Modules: []string{"github.com/golang-jwt/jwt/v5", "github.com/MicahParks/keyfunc/v3", "github.com/MicahParks/jwkset"}, New: newGolangJWT},
	{Name: "jwx", Modules: []string{"github.com/lestrrat-go/jwx/v3"}, New: newJWX},
	{Name: "go-jose", Modules: []string{"github.com/go-jose/go-jose/v4"}, New: newGoJose},
	{Name: PrimitiveLib, Modules: []string{"std"}, Primitive: true, New: newStdlib},
}

// ErrAcceptedHostile reports a verifier that accepted a token it must
// reject: it is configured to check less than the others.
var ErrAcceptedHostile = errors.New("accepted a token every verifier must reject")

// ErrRejectedValid reports a verifier that rejected the valid token.
var ErrRejectedValid = errors.New("rejected the valid token")

// CheckCases runs every case of alg through bind, a verifier of alg's key
// set (f.Set(alg)): the valid token must be
// accepted and every hostile one rejected (for the primitive, every one that
// does not need a claim check). It returns the first disagreement.
func CheckCases(f *Fixture, lib Lib, bind Bind, alg engine.Alg) error {
	for _, c := range f.Cases(alg) {
		if lib.Primitive && c.Claims {
			continue // the primitive reads no claims by definition
		}
		err := bind(c.Token)()
		switch {
		case c.Valid && err != nil:
			return fmt.Errorf("%s %s: %w: %v", lib.Name, alg, ErrRejectedValid, err)
		case !c.Valid && err == nil:
			return fmt.Errorf("%s %s: %w: %s", lib.Name, alg, ErrAcceptedHostile, c.Name)
		}
	}
	return nil
}
