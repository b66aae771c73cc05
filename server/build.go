package server

import (
	"fmt"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// newVerifier builds the verifier of a validated configuration on its key
// store: one engine policy per configured issuer, each holding its issuer's
// key set, and one token cache for them all.
func newVerifier(cfg *config.Config, store *keystore.Store, clock engine.Clock) (*engine.Verifier, error) {
	ec := engine.Config{
		MaxTokenSize:        cfg.Limits.MaxTokenBytes,
		MaxTokenSizeSetting: "limits.max_token_bytes",
		Clock:               clock,
		CacheEntries:        *cfg.Cache.Entries,
		CacheBytes:          cfg.Cache.MaxBytes,
	}
	if ec.CacheEntries == 0 {
		ec.CacheEntries = -1 // cache.entries: 0 turns it off
	}
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		keys, _ := store.KeySet(is.Issuer)
		ec.Policies = append(ec.Policies, issuerPolicy(is, keys))
	}
	v, err := engine.New(ec)
	if err != nil {
		return nil, fmt.Errorf("issuers: %w", err)
	}
	return v, nil
}

// keystoreIssuer is an issuer's key settings for the key store.
func keystoreIssuer(is *config.Issuer) keystore.Issuer {
	return keystore.Issuer{
		Issuer:         is.Issuer,
		JWKSURL:        is.JWKSURL,
		JWKSFile:       is.JWKSFile,
		JWKS:           is.InlineJWKS,
		PEMFiles:       is.PEMFiles,
		Discovery:      is.Discovery,
		Algorithms:     is.Algorithms,
		Cooldown:       is.Cooldown,
		RefreshDefault: is.RefreshInterval,
		RefreshMin:     is.RefreshMin,
		RefreshMax:     is.RefreshMax,
		FetchTimeout:   is.FetchTimeout,
		MaxBody:        is.MaxJWKSBytes,
	}
}

// issuerPolicy is an issuer's token policy for the engine, with its keys.
func issuerPolicy(is *config.Issuer, keys engine.KeyLookup) engine.IssuerPolicy {
	leeway := *is.Leeway
	if leeway == 0 {
		leeway = engine.NoLeeway // leeway: 0s means none
	}
	return engine.IssuerPolicy{
		Issuer:         is.Issuer,
		AnyIssuer:      is.AnyIssuer,
		Tenants:        is.Tenants,
		AnyTenant:      is.AnyTenant,
		Keys:           keys,
		Audiences:      is.Audiences,
		AllAudiences:   is.AllAudiences,
		AnyAudience:    is.AnyAudience,
		Algorithms:     is.Algorithms,
		RequireKid:     is.RequireKid,
		Leeway:         leeway,
		MaxAge:         is.MaxAge,
		Typ:            is.Typ,
		RequiredClaims: is.RequiredClaims,
		RequiredScopes: is.RequiredScopes,
	}
}
