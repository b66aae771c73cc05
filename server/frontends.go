package server

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/authz"
)

// This file is what the server shares with front ends in other packages
// (the gRPC ext_authz service): the decision of each generation, the
// metrics page, so that every front end answers a request exactly as /auth
// does, follows reloads as /auth does, and is counted on the same /metrics
// page.

// Policy returns the generation's compiled authorization policy (token
// sources, routes, identity headers): the one its /auth decides with.
// A front end takes it from a generation it holds (Server.Acquire) for
// each request, so that it follows reloads.
func (g *Generation) Policy() *authz.Policy { return g.h.policy }

// Verifier returns the verifier of the generation's issuers, on its key
// store: the one its /auth decides with, whose verified-token cache the
// front ends share (and what the policy keeps with a cached token). It is
// usable while the generation is held: once a released generation is
// replaced, its key store may be closed.
func (g *Generation) Verifier() authz.Verifier { return g.h.issuers }

// Metrics returns the metrics set /metrics writes, for front ends in other
// packages to count in. Their families must be declared with DeclareMetric.
// It is the same set for every generation.
func (s *Server) Metrics() *metrics.Set { return s.metrics.set }

// DeclareMetric declares a metric family of a front end in another package
// with its Prometheus type ("counter", "gauge", "histogram" or "summary")
// and one-line help text, so that /metrics writes its HELP and TYPE lines,
// and returns name. Declaring a family twice with other metadata panics.
func DeclareMetric(name, typ, help string) string { return family(name, typ, help) }
