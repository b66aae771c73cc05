package server

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// route is one issuer's verifier.
type route struct {
	issuer string
	v      *engine.Verifier
	scope  string        // the issuer's required scopes, for the 403 scope attribute
	policy engine.Config // what v was built from, to tell an unchanged policy on reload
}

// router picks the verifier for a token. With one issuer there is nothing
// to pick. With several, the token's "iss" is peeked from the unverified
// payload only to choose the issuer's policy; that verifier then checks the
// signature with the issuer's keys and "iss" exactly, so a token can gain
// nothing by lying about its issuer.
type router struct {
	routes   []*route
	byIssuer map[string]*route
	maxToken int
}

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

// newRouter builds the verifier of every issuer of cfg. keep, if not nil,
// is a router on the same key lookup whose route for an issuer with an
// equal policy is taken over as it is, verified-token cache included.
func newRouter(cfg *config.Config, keys engine.KeyLookup, clock engine.Clock, keep *router) (*router, error) {
	r := &router{byIssuer: map[string]*route{}, maxToken: cfg.Limits.MaxTokenBytes}
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		ec, err := engineConfig(is, cfg, keys, clock)
		if err != nil {
			return nil, err
		}
		if old := keep.route(is.Issuer); old != nil && samePolicy(old.policy, ec) {
			r.routes = append(r.routes, old)
			r.byIssuer[is.Issuer] = old
			continue
		}
		v, err := engine.New(ec)
		if err != nil {
			return nil, fmt.Errorf("issuer %q: %w", is.Issuer, err)
		}
		rt := &route{issuer: is.Issuer, v: v, scope: strings.Join(is.RequiredScopes, " "), policy: ec}
		r.routes = append(r.routes, rt)
		r.byIssuer[is.Issuer] = rt
	}
	if len(r.routes) == 0 {
		return nil, fmt.Errorf("no issuer configured")
	}
	return r, nil
}

// route returns the route of the issuer, nil if there is none (or r is nil).
func (r *router) route(issuer string) *route {
	if r == nil {
		return nil
	}
	return r.byIssuer[issuer]
}

// pick returns the route for tok, peeking its issuer when there are
// several. A token whose issuer is unknown or unreadable goes to the first
// route, which rejects it with a precise error.
func (r *router) pick(tok []byte, x *exchange) *route {
	if len(r.routes) == 1 || len(tok) > r.maxToken {
		return r.routes[0]
	}
	seg := payloadSegment(tok)
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	if cap(x.peekBuf) < n {
		x.peekBuf = make([]byte, n)
	}
	m, err := base64.RawURLEncoding.Decode(x.peekBuf[:n], seg)
	if err != nil {
		return r.routes[0]
	}
	if err := engine.ScanClaims(x.peekBuf[:m], &x.peek); err != nil {
		return r.routes[0]
	}
	if rt, ok := r.byIssuer[string(x.peek.Claims.Issuer)]; ok {
		return rt
	}
	return r.routes[0]
}
