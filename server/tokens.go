package server

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/valyala/fasthttp"
)

// TokenSources lists where a request may carry its token. The zero value
// reads only "Authorization: Bearer <token>". A request that carries tokens
// in more than one place (or twice in one) is rejected: which one would be
// meant is ambiguous, and a proxy might check one while the upstream trusts
// the other.
type TokenSources struct {
	// NoAuthorization stops reading the Authorization Bearer scheme.
	NoAuthorization bool
	// Header names another header that carries the token after the optional
	// HeaderPrefix (compared case-insensitively).
	Header       string
	HeaderPrefix string
	// Cookie names a cookie that carries the token.
	Cookie string
	// Query names a query parameter that carries the token.
	Query string
}

// Extraction failures. errNoToken (no token anywhere; an empty cookie or
// query parameter counts as none) gets a challenge without an error code;
// the others are invalid tokens.
var (
	errMultipleTokens = newDenial(401, codeInvalidToken, "multiple_tokens", "the request carries more than one token; send exactly one")
	errBearerEmpty    = newDenial(401, codeInvalidToken, "malformed", "the Authorization header has the Bearer scheme but no token")
	errBearerSpaces   = newDenial(401, codeInvalidToken, "malformed", "the Authorization header must carry exactly one Bearer token, without spaces")
	errHeaderEmpty    = newDenial(401, codeInvalidToken, "malformed", "the token header is present but carries no token")
	errNoToken        = newDenial(401, "", "no_token", "the request carries no token")
)

// parseBearer reads an Authorization value. It reports ok=false when the
// scheme is not Bearer (another scheme is not a Bearer token: it is
// ignored), and otherwise the token or a denial: the scheme is matched
// case-insensitively (RFC 9110 §11.1) and must be followed by spaces and
// exactly one token.
func parseBearer(v []byte) (tok []byte, d *denial, ok bool) {
	const scheme = "bearer"
	if len(v) < len(scheme) || !asciiEqualFold(v[:len(scheme)], scheme) {
		return nil, nil, false
	}
	rest := v[len(scheme):]
	if len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
		return nil, nil, false // "Bearerx": another scheme
	}
	rest = trimSpace(rest)
	if len(rest) == 0 {
		return nil, errBearerEmpty, true
	}
	if oneToken(rest) {
		return rest, nil, true
	}
	return nil, errBearerSpaces, true
}

// oneToken reports whether v has no space or tab inside (vectorized scans:
// this runs on every request over the whole token).
func oneToken(v []byte) bool {
	return bytes.IndexByte(v, ' ') < 0 && bytes.IndexByte(v, '\t') < 0
}

// parsePrefixed reads the configured token header: prefix (case-insensitive)
// then one token.
func parsePrefixed(v []byte, prefix string) (tok []byte, d *denial, ok bool) {
	if len(v) < len(prefix) || !asciiEqualFold(v[:len(prefix)], prefix) {
		return nil, nil, false
	}
	rest := trimSpace(v[len(prefix):])
	if len(rest) == 0 {
		return nil, errHeaderEmpty, true
	}
	if oneToken(rest) {
		return rest, nil, true
	}
	return nil, errBearerSpaces, true
}

// tokenFinder collects the tokens a request carries.
type tokenFinder struct {
	tok   []byte
	n     int
	first *denial
}

func (f *tokenFinder) add(tok []byte, d *denial) {
	f.n++
	if f.n == 1 {
		f.tok, f.first = tok, d
	}
}

func (f *tokenFinder) result() ([]byte, *denial) {
	switch {
	case f.n == 0:
		return nil, errNoToken
	case f.n > 1:
		return nil, errMultipleTokens
	case f.first != nil:
		return nil, f.first
	}
	return f.tok, nil
}

// extract finds the one token of a fasthttp request. query is the raw query
// string to read the query source from (the original request's, for
// forward-auth), parsed into args. It does not allocate once the request
// buffers have grown.
func (s *TokenSources) extract(h *fasthttp.RequestHeader, query []byte, args *fasthttp.Args) ([]byte, *denial) {
	var f tokenFinder
	if !s.NoAuthorization {
		for _, v := range h.PeekAll(fasthttp.HeaderAuthorization) {
			if tok, d, ok := parseBearer(v); ok {
				f.add(tok, d)
			}
		}
	}
	if s.Header != "" {
		for _, v := range h.PeekAll(s.Header) {
			if tok, d, ok := parsePrefixed(v, s.HeaderPrefix); ok {
				f.add(tok, d)
			}
		}
	}
	if s.Cookie != "" {
		for k, v := range h.Cookies() {
			if string(k) == s.Cookie && len(v) > 0 {
				f.add(v, nil)
			}
		}
	}
	if s.Query != "" && len(query) > 0 {
		args.ParseBytes(query)
		for k, v := range args.All() {
			if string(k) == s.Query && len(v) > 0 {
				f.add(v, nil)
			}
		}
	}
	return f.result()
}

// extractHTTP finds the one token of a net/http request.
func (s *TokenSources) extractHTTP(r *http.Request) ([]byte, *denial) {
	var f tokenFinder
	if !s.NoAuthorization {
		for _, v := range r.Header.Values("Authorization") {
			if tok, d, ok := parseBearer([]byte(v)); ok {
				f.add(tok, d)
			}
		}
	}
	if s.Header != "" {
		for _, v := range r.Header.Values(s.Header) {
			if tok, d, ok := parsePrefixed([]byte(strings.TrimSpace(v)), s.HeaderPrefix); ok {
				f.add(tok, d)
			}
		}
	}
	if s.Cookie != "" {
		for _, c := range r.CookiesNamed(s.Cookie) {
			if c.Value != "" {
				f.add([]byte(c.Value), nil)
			}
		}
	}
	if s.Query != "" && r.URL.RawQuery != "" {
		for _, v := range r.URL.Query()[s.Query] {
			if v != "" {
				f.add([]byte(v), nil)
			}
		}
	}
	return f.result()
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// asciiEqualFold compares b with the lower-case ASCII string lower, ignoring
// ASCII case.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		l := lower[i]
		if 'A' <= l && l <= 'Z' {
			l += 'a' - 'A'
		}
		if c != l {
			return false
		}
	}
	return true
}
