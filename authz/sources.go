package authz

import (
	"bytes"
	"fmt"
	"net/textproto"
	"strings"
)

// HeaderSource reads the headers of the request being decided. A front end
// implements it over its transport's request without copying: the values
// may point into the transport's buffers, and need to stay valid only
// until Decide returns.
type HeaderSource interface {
	// AppendValues appends the values of the header name (given in its
	// canonical form, e.g. "Authorization"; match it case-insensitively)
	// to dst and returns the extended slice.
	AppendValues(dst [][]byte, name string) [][]byte
}

// Header names Decide reads.
const (
	hdrAuthorization = "Authorization"
	hdrCookie        = "Cookie"
	hdrOrigin        = "Origin"
	hdrACRM          = "Access-Control-Request-Method"
)

// Token-extraction refusals. DenialNoToken (no token anywhere; an empty
// cookie or query parameter counts as none) gets a challenge without an
// error code; the others are invalid tokens.
var (
	DenialMultipleTokens = NewDenial(401, "invalid_token", "multiple_tokens", "the request carries more than one token; send exactly one")
	DenialBearerEmpty    = NewDenial(401, "invalid_token", "malformed", "the Authorization header has the Bearer scheme but no token")
	DenialBearerSpaces   = NewDenial(401, "invalid_token", "malformed", "the Authorization header must carry exactly one Bearer token, without spaces")
	DenialHeaderEmpty    = NewDenial(401, "invalid_token", "malformed", "the token header is present but carries no token")
	DenialNoToken        = NewDenial(401, "", "no_token", "the request carries no token")
)

// sources is the compiled Tokens.
type sources struct {
	authorization bool
	header        string // canonical
	prefix        string // without trailing spaces
	prefixSpace   bool   // the configured prefix ended with a space
	cookie        string
	query         string
}

func compileSources(p *problems, t *Tokens) sources {
	s := sources{authorization: t.AuthorizationEnabled(), cookie: t.Cookie, query: t.Query}
	s.prefix = strings.TrimRight(t.HeaderPrefix, " \t")
	s.prefixSpace = len(s.prefix) < len(t.HeaderPrefix)
	if t.Header != "" {
		if !IsToken(t.Header) {
			p.add(ErrSetting, "tokens.header", fmt.Sprintf("%q is not a header name", t.Header), "name a header such as X-Api-Token")
		}
		s.header = textproto.CanonicalMIMEHeaderKey(t.Header)
		if s.header == hdrAuthorization && s.authorization {
			p.add(ErrSetting, "tokens.header", "Authorization is already read as a Bearer token",
				"remove tokens.header, or set tokens.authorization: false to read Authorization with header_prefix")
		}
	} else if t.HeaderPrefix != "" {
		p.add(ErrSetting, "tokens.header_prefix", "a prefix without tokens.header", "set tokens.header, or remove the prefix")
	}
	if !IsQuotable(t.HeaderPrefix) {
		p.add(ErrSetting, "tokens.header_prefix", "the prefix holds control characters, quotes or non-ASCII bytes", "use printable ASCII")
	}
	if t.Cookie != "" && !IsToken(t.Cookie) {
		p.add(ErrSetting, "tokens.cookie", fmt.Sprintf("%q is not a cookie name", t.Cookie), "name a cookie such as access_token")
	}
	if t.Query != "" && strings.ContainsAny(t.Query, "&=#%+ ") {
		p.add(ErrSetting, "tokens.query", fmt.Sprintf("%q is not a plain query parameter name", t.Query), "name a parameter such as access_token")
	}
	if !s.authorization && s.header == "" && s.cookie == "" && s.query == "" {
		p.add(ErrSetting, "tokens", "no token source is enabled", "enable authorization, or set header, cookie or query")
	}
	return s
}

// extract finds the one token of the request. It reports the token, or the
// refusal; found is false when the request carries no token at all (then
// the refusal is DenialNoToken).
func (s *sources) extract(req *Request, st *State) (tok []byte, d *Denial) {
	var f tokenFinder
	if s.authorization {
		st.vals = req.Headers.AppendValues(st.vals[:0], hdrAuthorization)
		for _, v := range st.vals {
			if tok, d, ok := parseBearer(v); ok {
				f.add(tok, d)
			}
		}
	}
	if s.header != "" {
		st.vals = req.Headers.AppendValues(st.vals[:0], s.header)
		for _, v := range st.vals {
			if tok, d, ok := parsePrefixed(trimSpace(v), s.prefix, s.prefixSpace); ok {
				f.add(tok, d)
			}
		}
	}
	if s.cookie != "" {
		st.vals = req.Headers.AppendValues(st.vals[:0], hdrCookie)
		for _, v := range st.vals {
			eachCookie(v, s.cookie, &f)
		}
	}
	if s.query != "" && len(req.Query) > 0 {
		s.eachQuery(req.Query, st, &f)
	}
	return f.result()
}

// BearerToken finds the one Bearer token of the Authorization headers that
// h reads (POST /verify with an empty body, for instance), whatever the
// policy's token sources: DenialNoToken when there is none. st provides the
// memory; it does not allocate once st has grown.
func BearerToken(h HeaderSource, st *State) ([]byte, *Denial) {
	var f tokenFinder
	st.vals = h.AppendValues(st.vals[:0], hdrAuthorization)
	for _, v := range st.vals {
		if tok, d, ok := parseBearer(v); ok {
			f.add(tok, d)
		}
	}
	return f.result()
}

// parseBearer reads an Authorization value. It reports ok=false when the
// scheme is not Bearer (another scheme is not a Bearer token: it is
// ignored), and otherwise the token or a refusal: the scheme is matched
// case-insensitively (RFC 9110 §11.1) and must be followed by spaces and
// exactly one token.
func parseBearer(v []byte) (tok []byte, d *Denial, ok bool) {
	v = trimSpace(v)
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
		return nil, DenialBearerEmpty, true
	}
	if oneToken(rest) {
		return rest, nil, true
	}
	return nil, DenialBearerSpaces, true
}

// parsePrefixed reads the configured token header: the prefix word
// (matched case-insensitively; with space, then at least one space) then one
// token. A value that is the prefix alone carries no token.
func parsePrefixed(v []byte, word string, space bool) (tok []byte, d *Denial, ok bool) {
	if len(v) < len(word) || !equalFold(v[:len(word)], word) {
		return nil, nil, false
	}
	rest := v[len(word):]
	if space && len(rest) > 0 && rest[0] != ' ' && rest[0] != '\t' {
		return nil, nil, false // "Tokenabc" for the prefix "Token "
	}
	rest = trimSpace(rest)
	if len(rest) == 0 {
		return nil, DenialHeaderEmpty, true
	}
	if oneToken(rest) {
		return rest, nil, true
	}
	return nil, DenialBearerSpaces, true
}

// equalFold compares b with s ignoring ASCII case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lowerASCII(b[i]) != lowerASCII(s[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// oneToken reports whether v has no space or tab inside.
func oneToken(v []byte) bool {
	return bytes.IndexByte(v, ' ') < 0 && bytes.IndexByte(v, '\t') < 0
}

// eachCookie adds the non-empty values of the cookie name in a Cookie
// header value ("a=1; b=2"; a value may be quoted).
func eachCookie(v []byte, name string, f *tokenFinder) {
	for len(v) > 0 {
		var pair []byte
		if i := bytes.IndexByte(v, ';'); i >= 0 {
			pair, v = v[:i], v[i+1:]
		} else {
			pair, v = v, nil
		}
		pair = trimSpace(pair)
		eq := bytes.IndexByte(pair, '=')
		if eq < 0 || string(trimSpace(pair[:eq])) != name {
			continue
		}
		val := trimSpace(pair[eq+1:])
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if len(val) > 0 {
			f.add(val, nil)
		}
	}
}

// eachQuery adds the non-empty values of the query parameter in the raw
// query string; names and values are percent-decoded (into st.scratch for
// the value, so that at most one decoded value is kept: a second token is a
// refusal anyway).
func (s *sources) eachQuery(q []byte, st *State, f *tokenFinder) {
	for len(q) > 0 {
		var pair []byte
		if i := bytes.IndexByte(q, '&'); i >= 0 {
			pair, q = q[:i], q[i+1:]
		} else {
			pair, q = q, nil
		}
		name, val := pair, []byte(nil)
		if eq := bytes.IndexByte(pair, '='); eq >= 0 {
			name, val = pair[:eq], pair[eq+1:]
		}
		if !queryEqual(name, s.query) || len(val) == 0 {
			continue
		}
		if bytes.IndexByte(val, '%') >= 0 || bytes.IndexByte(val, '+') >= 0 {
			st.query = appendQueryUnescaped(st.query[:0], val)
			val = st.query
		}
		if len(val) > 0 {
			f.add(val, nil)
		}
	}
}

// queryEqual compares a raw (percent-encoded) query name with name.
func queryEqual(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '%') < 0 && bytes.IndexByte(raw, '+') < 0 {
		return string(raw) == name
	}
	j := 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(raw) && isHexDigit(raw[i+1]) && isHexDigit(raw[i+2]):
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		if j >= len(name) || name[j] != c {
			return false
		}
		j++
	}
	return j == len(name)
}

func appendQueryUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(raw) && isHexDigit(raw[i+1]) && isHexDigit(raw[i+2]):
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	return dst
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// tokenFinder collects the tokens a request carries.
type tokenFinder struct {
	tok   []byte
	n     int
	first *Denial
}

func (f *tokenFinder) add(tok []byte, d *Denial) {
	f.n++
	if f.n == 1 {
		f.tok, f.first = tok, d
	}
}

func (f *tokenFinder) result() ([]byte, *Denial) {
	switch {
	case f.n == 0:
		return nil, DenialNoToken
	case f.n > 1:
		return nil, DenialMultipleTokens
	case f.first != nil:
		return nil, f.first
	}
	return f.tok, nil
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

// IsToken reports whether s is a non-empty RFC 9110 token: a valid header
// name, method or cookie name.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// IsQuotable reports whether s can be sent inside an RFC 9110
// quoted-string without escapes, as a challenge's realm is.
func IsQuotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
