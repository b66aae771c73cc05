package jwtgatecaddy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
)

func init() {
	caddy.RegisterModule(new(Handler))
}

// Handler is the http.handlers.jwtgate module: it lets a request through to
// the next handler when it carries a valid token that meets its route's
// requirements, with the identity headers set, and answers it 401 or 403
// otherwise. Its fields are its JSON configuration.
type Handler struct {
	// ConfigFile is a jwtgate YAML configuration file: its issuers, token
	// sources, identity headers, rules, limits and cache (its listen and
	// log settings are Caddy's business and are ignored).
	ConfigFile string `json:"config,omitempty"`
	// Inline is the same configuration given in place, in its JSON form:
	// {"issuers":[{"issuer":"https://id.example.com","jwks_url":"...",
	// "audiences":["api"]}]}. Exactly one of ConfigFile and Inline is set.
	Inline json.RawMessage `json:"inline,omitempty"`
	// Access is "required" (the default: no valid token, no entry),
	// "optional" (no token passes without identity; a token must be
	// valid) or "public" (no token is read).
	Access string `json:"access,omitempty"`
	// Scopes must all be granted by the token ("scope" or "scp"), or the
	// request gets 403 insufficient_scope.
	Scopes []string `json:"scopes,omitempty"`
	// Require lists claim conditions (authz.Condition in JSON:
	// {"claim":"roles","op":"contains","value":"admin"}) that must all
	// hold, or the request gets 403.
	Require json.RawMessage `json:"require,omitempty"`

	realm    string
	pol      *authz.Policy
	verifier *pooledVerifier
	poolKey  string   // the verifier's, released by Cleanup
	paths    sync.Map // placeholder claim path → *authz.ClaimPath
	npaths   atomic.Int32
	states   sync.Pool
	logger   *zap.Logger
	// decisions counts decisions by status and reason (nil: no registry).
	decisions *prometheus.CounterVec
}

// Interface guards.
var (
	_ caddy.Module                = (*Handler)(nil)
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)

// CaddyModule returns the Caddy module information.
func (*Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.jwtgate",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision reads and validates the configuration, compiles the policy and
// takes the key store of its issuers (starting it when no other handler
// holds it yet: key files must load, remote key sets are fetched once,
// bounded by their fetch timeouts, and retried in the background).
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	cfg, err := h.loadConfig()
	if err != nil {
		return err
	}
	if h.pol, err = h.policy(cfg); err != nil {
		return err
	}
	h.realm = cfg.Realm
	if h.decisions, err = newDecisionCounter(ctx); err != nil {
		return fmt.Errorf("jwtgate: metrics: %w", err)
	}
	h.verifier, h.poolKey, err = acquireVerifier(cfg, ctx.Slogger())
	if err != nil {
		return fmt.Errorf("jwtgate: %w", err)
	}
	h.states.New = func() any { return new(reqState) }
	return nil
}

// Validate reports a configuration that Provision could not make whole.
func (h *Handler) Validate() error {
	if h.pol == nil || h.verifier == nil {
		return configError("the handler was not provisioned")
	}
	return nil
}

// Cleanup gives back the issuers' key stores: the last handler of an
// issuer's configuration to let go of it stops its refreshes.
func (h *Handler) Cleanup() error {
	if h.verifier == nil {
		return nil
	}
	h.verifier = nil
	return releaseAll(verifierPool, []string{h.poolKey})
}

// reqState is the memory of one request.
type reqState struct {
	st   authz.State
	path []byte
	buf  []byte
	hdrs headerSource
}

// headerSource reads the headers of a net/http request for authz.
type headerSource struct{ h http.Header }

// AppendValues appends the values of the header name (canonical).
func (s *headerSource) AppendValues(dst [][]byte, name string) [][]byte {
	for _, v := range s.h[name] {
		dst = append(dst, bytesOf(v))
	}
	return dst
}

// bytesOf returns the bytes of s without copying; they must not be
// written.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// ServeHTTP decides on the request: an allowed one goes on to next with the
// identity headers and the claim placeholders set; a refused one is
// answered here.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rs := h.states.Get().(*reqState)
	defer func() {
		rs.hdrs.h = nil // keep no request alive in the pool
		h.states.Put(rs)
	}()
	rs.hdrs.h = r.Header
	req := authz.Request{
		Method:  bytesOf(r.Method),
		Host:    bytesOf(r.Host),
		Query:   bytesOf(r.URL.RawQuery),
		Headers: &rs.hdrs,
	}
	if h.pol.NeedsPath() {
		var ok bool
		// The path as the upstream gets it, escapes as sent: the route
		// rules must see what the upstream serves.
		rs.path, ok = authz.NormalizePath(rs.path[:0], bytesOf(r.URL.EscapedPath()))
		if !ok {
			return h.refuse(w, r, rs, authz.DenialURIEncoding)
		}
		req.Path = rs.path
	}
	d := h.pol.Decide(&req, h.verifier.issuers, &rs.st)
	if !d.Allowed {
		return h.refuse(w, r, rs, d.Denial)
	}
	h.count(200, d.Reason())
	for name := range r.Header {
		if h.pol.IsLookAlike(bytesOf(name)) {
			delete(r.Header, name)
		}
	}
	d.VisitHeaders(func(name, value []byte) {
		// An absent claim: no header (the client's copy is gone).
		if len(value) > 0 {
			r.Header.Set(string(name), string(value))
		}
	})
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set(placeholderRoute, d.Route())
	if d.Token != nil {
		repl.Set(placeholderUserID, h.claimText(d.Token, "sub"))
		repl.Set(placeholderIssuer, h.claimText(d.Token, "iss"))
		var done bool
		repl.Map(func(key string) (any, bool) {
			path, ok := strings.CutPrefix(key, placeholderClaim)
			if !ok || done {
				return nil, false
			}
			return h.lookupClaim(d.Token, path)
		})
		// The token lives in rs until it goes back to the pool.
		defer func() { done = true }()
	}
	return next.ServeHTTP(w, r)
}

// refuse answers a refused request as jwtgate's /auth does.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, rs *reqState, d *authz.Denial) error {
	h.count(d.Status(), d.Reason())
	hdr := w.Header()
	if d.Challenges() {
		rs.buf = d.AppendChallenge(rs.buf[:0], h.realm)
		hdr.Set("Www-Authenticate", string(rs.buf))
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(d.Status())
	rs.buf = d.AppendJSON(rs.buf[:0], false)
	_, err := w.Write(rs.buf)
	if ce := h.logger.Check(zap.DebugLevel, "refused"); ce != nil {
		ce.Write(zap.Int("status", d.Status()), zap.String("reason", d.Reason()),
			zap.String("method", r.Method), zap.String("uri", r.RequestURI))
	}
	return err
}

// Placeholders set on an allowed request.
const (
	placeholderUserID = "http.auth.user.id"
	placeholderIssuer = "http.auth.jwtgate.issuer"
	placeholderRoute  = "http.auth.jwtgate.route"
	placeholderClaim  = "http.auth.jwtgate.claim."
)

// maxCachedPaths bounds the parsed placeholder claim paths kept.
const maxCachedPaths = 1024

// claimText returns the claim at path rendered as text, or "".
func (h *Handler) claimText(t *engine.Token, path string) string {
	v, _ := h.lookupClaim(t, path)
	s, _ := v.(string)
	return s
}

// lookupClaim returns the claim at path (a claim path) rendered as text,
// and whether the token has it. Paths are parsed once per handler.
func (h *Handler) lookupClaim(t *engine.Token, path string) (any, bool) {
	var cp *authz.ClaimPath
	if v, ok := h.paths.Load(path); ok {
		cp = v.(*authz.ClaimPath)
	} else {
		p, err := authz.ParseClaimPath(path)
		if err != nil {
			return nil, false
		}
		cp = &p
		// The paths are those of the configuration's placeholders; the
		// bound only keeps a configuration that builds them from request
		// data from growing the map.
		if h.npaths.Add(1) <= maxCachedPaths {
			h.paths.Store(path, cp)
		}
	}
	raw, ok := cp.Lookup(&t.Claims)
	if !ok {
		return nil, false
	}
	text, ok := engine.AppendClaimText(nil, raw, ",")
	if !ok {
		return nil, false
	}
	return string(text), true
}
