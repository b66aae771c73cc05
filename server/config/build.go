package config

import (
	"fmt"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// KeystoreIssuer returns the key store's settings for issuers[i] of a
// validated configuration: its key source, refresh and fetch settings.
// Errors name the issuer and the fix.
func (c *Config) KeystoreIssuer(i int) (keystore.Issuer, error) {
	is := &c.Issuers[i]
	ki := keystore.Issuer{
		Issuer:         is.Issuer,
		JWKSURL:        is.JWKSURL,
		JWKSFile:       is.JWKSFile,
		JWKS:           is.InlineJWKS,
		PEMFiles:       is.PEMFiles,
		Discovery:      is.Discovery,
		Cooldown:       is.Cooldown,
		RefreshDefault: is.RefreshInterval,
		RefreshMin:     is.RefreshMin,
		RefreshMax:     is.RefreshMax,
		FetchTimeout:   is.FetchTimeout,
		MaxBody:        is.MaxJWKSBytes,
	}
	algs, err := is.algorithms()
	ki.Algorithms = algs
	return ki, err
}

// EngineConfig returns the engine policy of issuers[i] of a validated
// configuration, its keys looked up in keys and its time told by clock.
// The token cache's budget (cache.entries, cache.max_bytes) is shared
// evenly by the issuers' verifiers.
func (c *Config) EngineConfig(i int, keys engine.KeyLookup, clock engine.Clock) (engine.Config, error) {
	is := &c.Issuers[i]
	ec := engine.Config{
		Keys:           keys,
		AnyIssuer:      is.AnyIssuer,
		Audiences:      is.Audiences,
		AllAudiences:   is.AllAudiences,
		AnyAudience:    is.AnyAudience,
		RequireKid:     is.RequireKid,
		MaxAge:         is.MaxAge,
		Typ:            is.Typ,
		RequiredClaims: is.RequiredClaims,
		RequiredScopes: is.RequiredScopes,
		MaxTokenSize:   c.Limits.MaxTokenBytes,
		Clock:          clock,
	}
	if is.Issuer != "" {
		ec.Issuers = []string{is.Issuer}
	}
	algs, err := is.algorithms()
	if err != nil {
		return ec, err
	}
	ec.Algorithms = algs
	switch {
	case is.Leeway == nil:
		ec.Leeway = 0 // the engine's default
	case *is.Leeway == 0:
		ec.Leeway = -1 // none
	default:
		ec.Leeway = *is.Leeway
	}
	switch entries := c.Cache.Entries; {
	case entries == nil:
		// Not validated: the engine's defaults.
	case *entries == 0:
		ec.CacheEntries = -1
	default:
		n := len(c.Issuers)
		ec.CacheEntries = max(*entries/n, 64)
		ec.CacheBytes = max(c.Cache.MaxBytes/int64(n), 1<<20)
	}
	return ec, nil
}

// algorithms parses the issuer's allow-list of algorithms.
func (is *Issuer) algorithms() ([]engine.Alg, error) {
	var algs []engine.Alg
	for _, name := range is.Algorithms {
		a, ok := engine.ParseAlg(name)
		if !ok {
			return nil, fmt.Errorf("issuer %q: unknown algorithm %q: use JOSE names such as RS256 or ES256", is.Issuer, name)
		}
		algs = append(algs, a)
	}
	return algs, nil
}
