package main

import (
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// tokenSet holds the tokens of each class for one signing key.
type tokenSet map[string][][]byte

// tokenSpec says what tokens to make.
type tokenSpec struct {
	issuer, audience string
	distinct         int           // distinct valid tokens; the failing classes get up to 100
	lifetime         time.Duration // exp of valid tokens from now
}

// maxFailingTokens bounds the distinct tokens of the failing classes: they
// are never cached, so more would only cost setup time.
const maxFailingTokens = 100

// makeTokens signs the classes' tokens: valid ones with key, invalid ones
// as valid ones with a corrupted signature, expired ones with key an hour
// past their exp, unknown-kid ones with unknown (a key the server does not
// have).
func makeTokens(key, unknown *sign.Key, spec tokenSpec, now time.Time) (tokenSet, error) {
	failing := min(spec.distinct, maxFailingTokens)
	claims := func(i int, exp time.Time) map[string]any {
		return map[string]any{
			"iss":   spec.issuer,
			"aud":   spec.audience,
			"sub":   fmt.Sprintf("bench-user-%d", i),
			"scope": "read write",
			"iat":   now.Unix(),
			"exp":   exp.Unix(),
		}
	}
	set := tokenSet{}
	for _, c := range []struct {
		class string
		n     int
		key   *sign.Key
		exp   time.Time
	}{
		{classValid, spec.distinct, key, now.Add(spec.lifetime)},
		{classInvalid, failing, key, now.Add(spec.lifetime)},
		{classUnknownKid, failing, unknown, now.Add(spec.lifetime)},
		{classExpired, failing, key, now.Add(-time.Hour)},
	} {
		toks := make([][]byte, 0, c.n)
		for i := range c.n {
			tok, err := c.key.Sign(claims(i, c.exp))
			if err != nil {
				return nil, err
			}
			b := []byte(tok)
			if c.class == classInvalid {
				corruptSignature(b)
			}
			toks = append(toks, b)
		}
		set[c.class] = toks
	}
	return set, nil
}

// corruptSignature changes one character in the middle of the token's
// signature segment, so that the token stays well-formed (strict base64url)
// but its signature no longer verifies.
func corruptSignature(tok []byte) {
	i := len(tok) - 1
	for i >= 0 && tok[i] != '.' {
		i--
	}
	mid := i + 1 + (len(tok)-i-1)/2
	if tok[mid] == 'A' {
		tok[mid] = 'B'
	} else {
		tok[mid] = 'A'
	}
}

// benchKeys are the keys of a jwtgate bench run: the current signing key,
// the one a rotation switches to, and one the server never learns.
type benchKeys struct {
	current, next, unknown *sign.Key
}

func generateBenchKeys(alg engine.Alg) (*benchKeys, error) {
	var ks benchKeys
	for _, k := range []struct {
		dst **sign.Key
		kid string
	}{{&ks.current, "bench-1"}, {&ks.next, "bench-2"}, {&ks.unknown, "bench-unknown"}} {
		key, err := sign.Generate(alg, k.kid)
		if err != nil {
			return nil, err
		}
		*k.dst = key
	}
	return &ks, nil
}
