package server

import "bytes"

// endpoint names what a request is for. Routing looks only at the raw
// request target, never at fasthttp's ctx.Path(): that path is percent
// decoded (%2F included) and dot-segment normalized, so "/auth/..%2fhealthz"
// would reach /healthz, although a proxy that forwards "/auth" plus the
// client's path (Envoy ext_authz path_prefix) asked for forward-auth and
// takes the 200 of /healthz for an authorization.
type target uint8

const (
	targetNone target = iota // 404
	targetAuth
	targetVerify
	targetHealthz
	targetReadyz
	targetMetrics
	targetJWKS
)

// Raw paths of the endpoints other than /auth. They match exactly: no
// decoding, no case folding, no dot segments, no trailing slash.
var (
	pathVerify  = []byte("/verify")
	pathHealthz = []byte("/healthz")
	pathReadyz  = []byte("/readyz")
	pathMetrics = []byte("/metrics")
	pathJWKS    = []byte("/.well-known/jwks.json")
	schemeSep   = []byte("://")
)

// rawPath splits a raw request target into its path and query (without the
// '?'), as sent: nothing is decoded or normalized. The absolute form
// ("http://host/path?q") gives the bytes after the authority. Any other
// target not starting with '/' (the asterisk form "*", the authority form of
// CONNECT, an absolute URI without a path) gives ok false.
func rawPath(uri []byte) (path, query []byte, ok bool) {
	if len(uri) == 0 || uri[0] != '/' {
		i := bytes.Index(uri, schemeSep)
		if i <= 0 {
			return nil, nil, false
		}
		rest := uri[i+len(schemeSep):]
		j := bytes.IndexAny(rest, "/?#")
		if j < 0 || rest[j] != '/' {
			return nil, nil, false
		}
		uri = rest[j:]
	}
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		return uri[:i], uri[i+1:], true
	}
	return uri, nil, true
}

// isAuthPath reports whether a raw path is forward-auth: "/auth" followed by
// '/' or nothing (the query was split off by rawPath). It is so whatever the
// rest normalizes to: "/auth/..%2fmetrics" is forward-auth, never /metrics.
func isAuthPath(path []byte) bool {
	return bytes.HasPrefix(path, authPrefix) && (len(path) == len(authPrefix) || path[len(authPrefix)] == '/')
}

// targetOf routes a raw request path, as rawPath returned it with ok.
// hasJWKS tells whether the demo JWKS is published.
func targetOf(path []byte, ok, hasJWKS bool) target {
	switch {
	case !ok:
		return targetNone
	case isAuthPath(path):
		return targetAuth
	case bytes.Equal(path, pathVerify):
		return targetVerify
	case bytes.Equal(path, pathHealthz):
		return targetHealthz
	case bytes.Equal(path, pathReadyz):
		return targetReadyz
	case bytes.Equal(path, pathMetrics):
		return targetMetrics
	case hasJWKS && bytes.Equal(path, pathJWKS):
		return targetJWKS
	}
	return targetNone
}
