package server

import (
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// engineConfig translates an issuer's settings into the engine policy.
func engineConfig(is *config.Issuer, cfg *config.Config, keys engine.KeyLookup, clock engine.Clock) (engine.Config, error) {
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
		MaxTokenSize:   cfg.Limits.MaxTokenBytes,
		Clock:          clock,
	}
	if is.Issuer != "" {
		ec.Issuers = []string{is.Issuer}
	}
	for _, name := range is.Algorithms {
		a, ok := engine.ParseAlg(name)
		if !ok {
			return ec, fmt.Errorf("issuer %q: unknown algorithm %q", is.Issuer, name)
		}
		ec.Algorithms = append(ec.Algorithms, a)
	}
	switch {
	case is.Leeway == nil:
		ec.Leeway = 0 // engine default
	case *is.Leeway == 0:
		ec.Leeway = -1 // none
	default:
		ec.Leeway = *is.Leeway
	}
	// The cache budget is shared by the issuers' verifiers.
	entries := *cfg.Cache.Entries
	if entries == 0 {
		ec.CacheEntries = -1
	} else {
		n := len(cfg.Issuers)
		ec.CacheEntries = max(entries/n, 64)
		ec.CacheBytes = max(cfg.Cache.MaxBytes/int64(n), 1<<20)
	}
	return ec, nil
}

// router is the verifiers of a generation's issuers: authz.Issuers, which
// the decision verifies with, and the policy each verifier was built from,
// so that a reload keeps a verifier (and its token cache) whose policy is
// unchanged.
type router struct {
	issuers  *authz.Issuers
	policies map[string]engine.Config // by issuer
}

// newRouter builds the verifier of every issuer of cfg. keep, if not nil,
// is a router on the same key lookup whose verifier for an issuer with an
// equal policy is taken over as it is, verified-token cache included.
func newRouter(cfg *config.Config, keys engine.KeyLookup, clock engine.Clock, keep *router) (*router, error) {
	r := &router{policies: map[string]engine.Config{}}
	var list []authz.Issuer
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		ec, err := engineConfig(is, cfg, keys, clock)
		if err != nil {
			return nil, err
		}
		r.policies[is.Issuer] = ec
		scope := strings.Join(is.RequiredScopes, " ")
		if old := keep.verifier(is.Issuer); old != nil && samePolicy(keep.policies[is.Issuer], ec) {
			list = append(list, authz.Issuer{Issuer: is.Issuer, Verifier: old, Scope: scope})
			continue
		}
		v, err := engine.New(ec)
		if err != nil {
			return nil, fmt.Errorf("issuer %q: %w", is.Issuer, err)
		}
		list = append(list, authz.Issuer{Issuer: is.Issuer, Verifier: v, Scope: scope})
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no issuer configured")
	}
	var err error
	r.issuers, err = authz.NewIssuers(list, cfg.Limits.MaxTokenBytes)
	return r, err
}

// verifier returns the verifier of the issuer, nil if there is none (or r
// is nil).
func (r *router) verifier(issuer string) *engine.Verifier {
	if r == nil {
		return nil
	}
	for _, it := range r.issuers.List() {
		if it.Issuer == issuer {
			return it.Verifier
		}
	}
	return nil
}
