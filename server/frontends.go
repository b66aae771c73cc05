package server

import (
	"fmt"
	"sort"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// This file is what the server shares with front ends in other packages
// (the gRPC ext_authz service): the decision, the metrics page and the
// realm, so that every front end answers a request exactly as /auth does
// and is counted on the same /metrics page.

// Decider returns what front ends decide with: the compiled authorization
// policy of the configuration (token sources, route rules, identity
// headers) and the verifier of the configured issuers. The verifier is the
// HTTP server's own, so the front ends share its verified-token cache. It
// is the current generation's: call it again after a reload.
func (s *Server) Decider() (*authz.Policy, authz.Verifier, error) {
	g := s.gen.Load()
	pol, err := authz.Compile(authzConfig(g.cfg), authz.Options{Issuers: issuerNames(g.cfg)})
	if err != nil {
		return nil, nil, err
	}
	v := authz.NewIssuers(g.h.verifier)
	return pol, sharedCache{v}, nil
}

// sharedCache is the Verifier of the HTTP server's issuers for other front
// ends: it shares their token cache but leaves nothing in its entries,
// whose attachments hold /auth's precomputed identity headers in a form of
// its own. The policy recomputes a cached token's identity per request
// (without allocating) rather than read them.
type sharedCache struct{ *authz.Issuers }

// Keeps reports false: nothing is attached to the shared entries.
func (sharedCache) Keeps(*engine.Token) bool { return false }

// Attach does nothing (see Keeps).
func (sharedCache) Attach(*engine.Token, []byte) {}

// Realm returns the realm of the WWW-Authenticate challenges.
func (s *Server) Realm() string { return s.gen.Load().cfg.Realm }

// Metrics returns the metrics set /metrics writes, for front ends in other
// packages to count in. Their families must be declared with DeclareMetric.
func (s *Server) Metrics() *metrics.Set { return s.metrics.set }

// DeclareMetric declares a metric family of a front end in another package
// with its Prometheus type ("counter", "gauge", "histogram" or "summary")
// and one-line help text, so that /metrics writes its HELP and TYPE lines,
// and returns name. Declaring a family twice with other metadata panics.
func DeclareMetric(name, typ, help string) string { return family(name, typ, help) }

// issuerNames lists the exact "iss" of every configured issuer.
func issuerNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Issuers))
	for i := range cfg.Issuers {
		if cfg.Issuers[i].Issuer != "" {
			names = append(names, cfg.Issuers[i].Issuer)
		}
	}
	return names
}

// authzConfig translates the configuration's token sources, identity
// headers and rules into the decision package's terms. A rule becomes a
// route on its path prefix; the routes are tried longest prefix first, a
// rule naming methods first among equals, which is how /auth picks a rule.
func authzConfig(cfg *config.Config) *authz.Config {
	ac := &authz.Config{
		Tokens: authz.Tokens{
			Authorization: cfg.Tokens.Authorization,
			Header:        cfg.Tokens.Header,
			HeaderPrefix:  cfg.Tokens.HeaderPrefix,
			Cookie:        cfg.Tokens.Cookie,
			Query:         cfg.Tokens.Query,
		},
		Identity: authz.Identity{
			PayloadHeader:   cfg.Identity.PayloadHeader,
			MaxValueBytes:   cfg.Identity.MaxValueBytes,
			MaxPayloadBytes: cfg.Identity.MaxPayloadBytes,
		},
	}
	if cfg.Identity.Headers != nil {
		ac.Identity.Headers = make([]authz.IdentityHeader, len(cfg.Identity.Headers))
		for i, h := range cfg.Identity.Headers {
			ac.Identity.Headers[i] = authz.IdentityHeader{Header: h.Header, Claim: h.Claim, Separator: h.Separator}
		}
	}
	order := make([]int, len(cfg.Rules))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := &cfg.Rules[order[i]], &cfg.Rules[order[j]]
		if la, lb := len(rulePrefix(a.Path)), len(rulePrefix(b.Path)); la != lb {
			return la > lb
		}
		return len(a.Methods) > 0 && len(b.Methods) == 0
	})
	for _, i := range order {
		r := &cfg.Rules[i]
		ac.Routes = append(ac.Routes, authz.Route{
			Name:      fmt.Sprintf("rules[%d]", i),
			Prefix:    rulePrefix(r.Path),
			Methods:   r.Methods,
			Issuers:   r.Issuers,
			Audiences: r.Audiences,
			Scopes:    r.Scopes,
		})
	}
	return ac
}

// rulePrefix is a rule's path without its trailing slashes ("/" stays).
func rulePrefix(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}
