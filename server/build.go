package server

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// build builds the key store and the verifier of a validated configuration:
// one key store issuer and one engine policy per configured issuer, each
// policy holding its issuer's key set, and one token cache for them all. It
// does no I/O: the store's Start loads the keys.
func build(cfg *config.Config, clock engine.Clock, logger *slog.Logger, client *http.Client) (*keystore.Store, *engine.Verifier, error) {
	issuers := make([]keystore.Issuer, len(cfg.Issuers))
	for i := range cfg.Issuers {
		issuers[i] = keystoreIssuer(&cfg.Issuers[i])
	}
	store, err := keystore.New(keystore.Options{Clock: clock, Logger: logger, HTTPClient: client}, issuers...)
	if err != nil {
		return nil, nil, err
	}
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
		store.Close()
		return nil, nil, fmt.Errorf("issuers: %w", err)
	}
	return store, v, nil
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
