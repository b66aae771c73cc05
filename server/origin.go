package server

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/server/config"
)

// Headers in which proxies pass the original request to forward-auth.
var (
	hdrForwardedURI    = []byte("X-Forwarded-Uri")    // Traefik, Caddy
	hdrOriginalURI     = []byte("X-Original-Uri")     // nginx (X-Original-URI, by convention)
	hdrForwardedMethod = []byte("X-Forwarded-Method") // Traefik, Caddy
	hdrOriginalMethod  = []byte("X-Original-Method")  // nginx, by convention
	hdrForwardedHost   = []byte("X-Forwarded-Host")   // Caddy, Traefik; nginx when configured
	authPrefix         = []byte("/auth")
)

// Refusals about the original request. They are not token problems: a
// rule cannot be applied, so the request is forbidden (403) without an
// RFC 6750 error code.
var (
	errURIAmbiguous = newDenial(403, "", "uri_ambiguous",
		"the original request URI is ambiguous: the forwarded URI headers (or the path under /auth) disagree")
	errMethodUnknown = newDenial(403, "", "method_unknown",
		"the original request method is unknown: the proxy must send the configured forward_auth.method_header")
	errMethodAmbiguous = newDenial(403, "", "method_ambiguous",
		"the original request method is ambiguous: X-Forwarded-Method and X-Original-Method disagree")
	errHostAmbiguous = newDenial(403, "", "host_ambiguous",
		"the original request host is ambiguous: X-Forwarded-Host must name one host; the proxy must set it, replacing any the client sent")
)

// origin finds the original request of a forward-auth call.
type origin struct {
	uriMode    string // config.SourceAuto, config.SourcePath or a header name
	uriHeader  uint8  // its id in the handler's headerNames
	methodMode string
	methHeader uint8
}

func newOrigin(cfg *config.ForwardAuth, names *headerNames) *origin {
	o := &origin{uriMode: cfg.URIHeader, methodMode: cfg.MethodHeader}
	if o.uriMode != config.SourceAuto && o.uriMode != config.SourcePath {
		o.uriHeader = names.id(o.uriMode)
	}
	if o.methodMode != config.SourceAuto && o.methodMode != config.SourcePath {
		o.methHeader = names.id(o.methodMode)
	}
	return o
}

// request is the original request as resolved: path as the route rules
// see it (see authz.NormalizePath), raw query, method.
type request struct {
	known  bool
	path   []byte
	query  []byte
	method []byte
}

// resolveURI fills x.orig from the forward-auth request. authPath and
// authQuery are the raw path and query of the request to jwtgate (see
// rawPath): every candidate — a forwarded URI header or the path under
// /auth — is taken from the bytes as received and goes through the same
// authz.NormalizePath, never through fasthttp's decoded ctx.Path().
func (o *origin) resolveURI(authPath, authQuery []byte, x *exchange) *denial {
	x.orig.known = false
	x.orig.path, x.orig.query = x.orig.path[:0], nil
	switch o.uriMode {
	case config.SourcePath:
		return x.candidatePath(authPath, authQuery, true)
	case config.SourceAuto:
		fwd, orig := x.headers.firstTwo(hForwardedURI, hOriginalURI)
		if d := x.candidateHeader(fwd); d != nil {
			return d
		}
		if d := x.candidateHeader(orig); d != nil {
			return d
		}
		return x.candidatePath(authPath, authQuery, false)
	default:
		return x.candidateHeader(x.headers.first(o.uriHeader))
	}
}

// candidateHeader adds the URI raw, the value of a forwarded URI header, if
// present (not nil).
func (x *exchange) candidateHeader(raw []byte) *denial {
	if raw == nil {
		return nil
	}
	if len(raw) == 0 || raw[0] != '/' {
		// Only origin-form URIs ("/path?query"); anything else (an
		// absolute URL, "*", garbage) cannot be matched against rules.
		return errURIAmbiguous
	}
	if !x.orig.known { // the first candidate: split and normalized in one scan
		var ok bool
		if x.orig.path, x.orig.query, ok = authz.NormalizeTarget(x.orig.path[:0], raw); !ok {
			return authz.DenialURIEncoding
		}
		x.orig.known = true
		return nil
	}
	var ok bool
	var query []byte
	if x.buf, query, ok = authz.NormalizeTarget(x.buf[:0], raw); !ok {
		return authz.DenialURIEncoding
	}
	return x.agrees(query)
}

// candidatePath adds the raw path under /auth (Envoy path_prefix: the
// client's path as Envoy forwards it upstream, appended to /auth). With bare
// it also counts a request for exactly /auth, as the root.
func (x *exchange) candidatePath(authPath, authQuery []byte, bare bool) *denial {
	if !bare && len(authPath) <= len(authPrefix) { // not under /auth (the most common: exactly /auth)
		return nil
	}
	if !isAuthPath(authPath) {
		return nil
	}
	rest := authPath[len(authPrefix):]
	if len(rest) == 0 {
		if !bare {
			return nil
		}
		rest = slash
	}
	return x.addCandidate(rest, authQuery)
}

var slash = []byte("/")

// addCandidate normalizes a raw path and adds it with its query (which
// points into the request, valid while it is served); a second candidate
// must agree with the first.
func (x *exchange) addCandidate(rawPath, query []byte) *denial {
	if !x.orig.known {
		var ok bool
		if x.orig.path, ok = authz.NormalizePath(x.orig.path[:0], rawPath); !ok {
			return authz.DenialURIEncoding
		}
		x.orig.known, x.orig.query = true, query
		return nil
	}
	var ok bool
	if x.buf, ok = authz.NormalizePath(x.buf[:0], rawPath); !ok {
		return authz.DenialURIEncoding
	}
	return x.agrees(query)
}

// agrees refuses a second candidate (its normalized path in x.buf, its
// query) that differs from the first.
func (x *exchange) agrees(query []byte) *denial {
	if !bytes.Equal(x.orig.path, x.buf) || !bytes.Equal(x.orig.query, query) {
		return errURIAmbiguous
	}
	return nil
}

// resolveMethod fills x.orig.method.
func (o *origin) resolveMethod(req *fasthttp.Request, x *exchange) *denial {
	x.orig.method = req.Header.Method()
	switch o.methodMode {
	case config.SourcePath:
		return nil
	case config.SourceAuto:
		a, b := x.headers.firstTwo(hForwardedMethod, hOriginalMethod)
		switch {
		case a != nil && b != nil && !bytes.Equal(a, b):
			return errMethodAmbiguous
		case a != nil:
			x.orig.method = a
		case b != nil:
			x.orig.method = b
		}
		return nil
	default:
		m := x.headers.first(o.methHeader)
		if len(m) == 0 {
			return errMethodUnknown
		}
		x.orig.method = m
		return nil
	}
}

// originHost returns the host of the original request: X-Forwarded-Host
// (Caddy and Traefik set it; nginx must be told to), else the Host of the
// request to jwtgate (which nginx auth_request passes on with
// proxy_set_header Host $host). Routes on hosts need the proxy to set it,
// replacing what the client sent: a list of hosts is refused.
func originHost(req *fasthttp.Request, x *exchange) ([]byte, *denial) {
	if v := x.headers.first(hForwardedHost); v != nil {
		if len(v) == 0 || bytes.IndexByte(v, ',') >= 0 {
			return nil, errHostAmbiguous
		}
		return v, nil
	}
	return req.Header.Host(), nil
}
