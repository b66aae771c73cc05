package server

import (
	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
)

// serverDenials are the refusals of /auth about the original request,
// before the decision.
var serverDenials = []*denial{
	errURIAmbiguous, authz.DenialURIEncoding, errMethodUnknown, errMethodAmbiguous, errHostAmbiguous,
}

// registerReasons creates the request counter of every reason the handler
// can answer with, so that /metrics lists them at zero and counting one
// takes no lock.
func (h *handler) registerReasons() {
	m := h.metrics
	for _, e := range engine.Reasons() {
		d := authz.DenialOf(e, "")
		m.register(endpointAuth, d.Status(), d.Reason())
		m.register(endpointVerify, 401, d.Reason())
	}
	m.register(endpointAuth, 401, "other")
	m.register(endpointVerify, 401, "other")
	for _, d := range serverDenials {
		m.register(endpointAuth, d.Status(), d.Reason())
	}
	for _, d := range []*denial{errVerifyBody, authz.DenialMultipleTokens, authz.DenialBearerEmpty, authz.DenialBearerSpaces, errVerifyOrigin} {
		m.register(endpointVerify, d.Status(), d.Reason())
	}
	denials := h.policy.Denials()
	for _, rd := range denials {
		m.register(endpointAuth, rd.Denial.Status(), rd.Denial.Reason())
	}
	h.routes.init(m, h.policy.Routes(), denials)
}
