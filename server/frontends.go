package server

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/authz"
)

// This file is what the server shares with front ends in other packages
// (the gRPC ext_authz service): the decision, the metrics page and the
// realm, so that every front end answers a request exactly as /auth does
// and is counted on the same /metrics page.

// Decider returns what front ends decide with: the compiled authorization
// policy of the configuration (token sources, routes, identity headers) and
// the verifier of the configured issuers. Both are the HTTP server's own, so
// the front ends share its verified-token cache and what the policy keeps
// with a cached token (its identity headers, its routes' outcomes). They
// are the current generation's: call it again after a reload.
func (s *Server) Decider() (*authz.Policy, authz.Verifier, error) {
	h := s.gen.Load().h
	return h.policy, h.issuers, nil
}

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
