package config

import (
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// KeystoreIssuer returns the key store's settings for issuers[i] of a
// validated configuration: its key source, refresh and fetch settings.
func (c *Config) KeystoreIssuer(i int) keystore.Issuer {
	is := &c.Issuers[i]
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

// IssuerPolicy returns the engine policy of issuers[i] of a validated
// configuration, its keys looked up in keys (a key store's KeySet).
func (c *Config) IssuerPolicy(i int, keys engine.KeyLookup) engine.IssuerPolicy {
	is := &c.Issuers[i]
	var leeway time.Duration // unset (not validated): the engine's default
	if is.Leeway != nil {
		if leeway = *is.Leeway; leeway == 0 {
			leeway = engine.NoLeeway // leeway: 0s means none
		}
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

// EngineConfig returns the engine settings of a validated configuration
// other than its issuers' policies (token size limit, token cache), its
// time told by clock. Add one IssuerPolicy per issuer to Policies.
func (c *Config) EngineConfig(clock engine.Clock) engine.Config {
	ec := engine.Config{
		MaxTokenSize:        c.Limits.MaxTokenBytes,
		MaxTokenSizeSetting: "limits.max_token_bytes",
		Clock:               clock,
		CacheBytes:          c.Cache.MaxBytes,
	}
	if c.Cache.Entries != nil {
		ec.CacheEntries = *c.Cache.Entries
		if ec.CacheEntries == 0 {
			ec.CacheEntries = -1 // cache.entries: 0 turns it off
		}
	}
	return ec
}
