package server

import (
	"bytes"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/server/config"
)

// Headers in which proxies pass the original request to forward-auth.
var (
	hdrForwardedURI    = []byte("X-Forwarded-Uri")    // Traefik, Caddy
	hdrOriginalURI     = []byte("X-Original-Uri")     // nginx (X-Original-URI, by convention)
	hdrForwardedMethod = []byte("X-Forwarded-Method") // Traefik, Caddy
	hdrOriginalMethod  = []byte("X-Original-Method")  // nginx, by convention
	authPrefix         = []byte("/auth")
)

// Refusals about the original request. They are not token problems: a
// rule cannot be applied, so the request is forbidden (403) without an
// RFC 6750 error code.
var (
	errURIAmbiguous = newDenial(403, "", "uri_ambiguous",
		"the original request URI is ambiguous: the forwarded URI headers (or the path under /auth) disagree")
	errURIUnknown = newDenial(403, "", "uri_unknown",
		"the original request URI is unknown: the proxy must send X-Forwarded-Uri or X-Original-URI, or call /auth/<path>")
	errMethodUnknown = newDenial(403, "", "method_unknown",
		"the original request method is unknown: the proxy must send the configured forward_auth.method_header")
	errMethodAmbiguous = newDenial(403, "", "method_ambiguous",
		"the original request method is ambiguous: X-Forwarded-Method and X-Original-Method disagree")
)

// origin finds the original request of a forward-auth call.
type origin struct {
	uriMode    string // config.SourceAuto, config.SourcePath or a header name
	uriHeader  []byte
	methodMode string
	methHeader []byte
}

func newOrigin(cfg *config.ForwardAuth) *origin {
	o := &origin{uriMode: cfg.URIHeader, methodMode: cfg.MethodHeader}
	if o.uriMode != config.SourceAuto && o.uriMode != config.SourcePath {
		o.uriHeader = []byte(o.uriMode)
	}
	if o.methodMode != config.SourceAuto && o.methodMode != config.SourcePath {
		o.methHeader = []byte(o.methodMode)
	}
	return o
}

// request is the original request as resolved: path as the route rules
// see it (see appendOriginalPath), raw query, method.
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
// appendOriginalPath, never through fasthttp's decoded ctx.Path().
func (o *origin) resolveURI(req *fasthttp.Request, authPath, authQuery []byte, x *exchange) *denial {
	x.orig.known = false
	x.orig.path, x.orig.query = x.orig.path[:0], x.orig.query[:0]
	switch o.uriMode {
	case config.SourcePath:
		return x.candidatePath(authPath, authQuery, true)
	case config.SourceAuto:
		for _, h := range [...][]byte{hdrForwardedURI, hdrOriginalURI} {
			if d := x.candidateHeader(req, h); d != nil {
				return d
			}
		}
		return x.candidatePath(authPath, authQuery, false)
	default:
		return x.candidateHeader(req, o.uriHeader)
	}
}

// candidateHeader adds the URI in header h, if present.
func (x *exchange) candidateHeader(req *fasthttp.Request, h []byte) *denial {
	raw := req.Header.PeekBytes(h)
	if raw == nil {
		return nil
	}
	if len(raw) == 0 || raw[0] != '/' {
		// Only origin-form URIs ("/path?query"); anything else (an
		// absolute URL, "*", garbage) cannot be matched against rules.
		return errURIAmbiguous
	}
	path, query := raw, []byte(nil)
	if i := bytes.IndexByte(raw, '?'); i >= 0 {
		path, query = raw[:i], raw[i+1:]
	}
	return x.addCandidate(path, query)
}

// candidatePath adds the raw path under /auth (Envoy path_prefix: the
// client's path as Envoy forwards it upstream, appended to /auth). With bare
// it also counts a request for exactly /auth, as the root.
func (x *exchange) candidatePath(authPath, authQuery []byte, bare bool) *denial {
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

// addCandidate normalizes a raw path and adds it with its query; a second
// candidate must agree with the first.
func (x *exchange) addCandidate(rawPath, query []byte) *denial {
	var ok bool
	x.buf, ok = appendOriginalPath(x.buf[:0], rawPath)
	if !ok {
		return errURIEncoding
	}
	if !x.orig.known {
		x.orig.known = true
		x.orig.path = append(x.orig.path[:0], x.buf...)
		x.orig.query = append(x.orig.query[:0], query...)
		return nil
	}
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
		a := req.Header.PeekBytes(hdrForwardedMethod)
		b := req.Header.PeekBytes(hdrOriginalMethod)
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
		m := req.Header.PeekBytes(o.methHeader)
		if len(m) == 0 {
			return errMethodUnknown
		}
		x.orig.method = m
		return nil
	}
}
