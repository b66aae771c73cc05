package server

import "github.com/jwtgate/jwtgate/engine"

// serverDenials are the server's own fixed refusals.
var serverDenials = []*denial{
	errMultipleTokens, errBearerEmpty, errBearerSpaces, errHeaderEmpty, errNoToken,
	errURIAmbiguous, errURIEncoding, errURIUnknown, errMethodUnknown, errMethodAmbiguous, errVerifyBody,
}

// registerReasons creates the request counter of every reason the handler
// can answer with.
func (h *handler) registerReasons() {
	m := h.metrics
	for _, e := range engine.Reasons() {
		d := denialOf(e, "")
		m.register(endpointAuth, d.status, d.reason)
		m.register(endpointVerify, 401, d.reason)
	}
	m.register(endpointAuth, 401, "other")
	m.register(endpointVerify, 401, "other")
	for _, d := range serverDenials {
		if d == errVerifyBody {
			m.register(endpointVerify, d.status, d.reason)
		} else {
			m.register(endpointAuth, d.status, d.reason)
		}
	}
	for i := range h.rules.rules {
		r := &h.rules.rules[i]
		for _, d := range []*denial{r.badIssuer, r.badAudience, r.badScope} {
			if d != nil {
				m.register(endpointAuth, d.status, d.reason)
			}
		}
	}
	if len(h.identity.headers) > 0 || h.identity.payload != nil {
		m.register(endpointAuth, 401, "identity_unforwardable")
	}
}
