package server

import "github.com/jwtgate/jwtgate/engine"

// engineReasons are the engine's failure reasons, whose request counters
// exist from the start (so /metrics lists them at zero, and counting one
// takes no lock).
var engineReasons = []*engine.Error{
	engine.ErrMalformed, engine.ErrTooLarge, engine.ErrAlgNone, engine.ErrUnsupportedAlg,
	engine.ErrAlgNotAllowed, engine.ErrAlgMismatch, engine.ErrKidRequired, engine.ErrUnknownKid,
	engine.ErrKeyRemoved, engine.ErrUnknownIssuer, engine.ErrKeysUnavailable, engine.ErrUnknownCrit, engine.ErrDuplicate,
	engine.ErrBadSignature, engine.ErrExpired, engine.ErrNotYetValid, engine.ErrIssuedInFuture,
	engine.ErrTooOld, engine.ErrIssuer, engine.ErrAudience, engine.ErrTyp, engine.ErrMissingClaim,
	engine.ErrClaimType, engine.ErrScope,
}

// serverDenials are the server's own fixed refusals.
var serverDenials = []*denial{
	errMultipleTokens, errBearerEmpty, errBearerSpaces, errHeaderEmpty, errNoToken,
	errURIAmbiguous, errURIEncoding, errURIUnknown, errMethodUnknown, errMethodAmbiguous, errVerifyBody,
}

// registerReasons creates the request counter of every reason the handler
// can answer with.
func (h *handler) registerReasons() {
	m := h.metrics
	for _, e := range engineReasons {
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
