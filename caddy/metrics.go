package jwtgatecaddy

import (
	"errors"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// newDecisionCounter returns the counter of the handler's decisions, by
// status and reason, registered in the configuration's metrics registry
// (served by Caddy's metrics handler and admin /metrics). Handlers of one
// configuration share it; nil when Caddy keeps no registry.
func newDecisionCounter(ctx caddy.Context) (*prometheus.CounterVec, error) {
	reg := ctx.GetMetricsRegistry()
	if reg == nil {
		return nil, nil
	}
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "jwtgate",
		Subsystem: "caddy",
		Name:      "decisions_total",
		Help:      "Requests the jwtgate handler decided, by HTTP status (200: let through) and reason (allowed, public, anonymous, preflight, or the refusal's reason such as no_token or expired).",
	}, []string{"status", "reason"})
	err := reg.Register(cv)
	var dup prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return cv, nil
	case errors.As(err, &dup):
		if existing, ok := dup.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, err
}

// statusText holds the status labels.
var statusText = map[int]string{200: "200", 401: "401", 403: "403"}

// count counts one decision.
func (h *Handler) count(status int, reason string) {
	if h.decisions == nil {
		return
	}
	s, ok := statusText[status]
	if !ok {
		s = strconv.Itoa(status)
	}
	h.decisions.WithLabelValues(s, reason).Inc()
}
