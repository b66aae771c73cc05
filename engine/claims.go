package engine

import (
	"math"
	"strconv"

	json "github.com/goccy/go-json"
)

// Claims are the registered claims of a token (RFC 7519 §4.1) and OAuth
// scopes, read without allocation. Byte slices point into the Token's scratch
// memory (or, for a cached token, into the cache entry) and are valid until
// the Token is reused. Only a verified token's claims can be trusted.
type Claims struct {
	Issuer    []byte
	Subject   []byte
	ID        []byte   // jti
	Audience  [][]byte // "aud" as a string or an array of strings
	ExpiresAt int64    // exp, Unix seconds (fractions truncated)
	NotBefore int64    // nbf
	IssuedAt  int64    // iat
	// Scope is the space-separated "scope" claim (RFC 8693), or the "scp"
	// claim with its array elements joined by spaces.
	Scope   []byte
	present claimBits
	raw     []byte
}

// claimBits records which registered claims a token carries.
type claimBits uint16

const (
	hasIss claimBits = 1 << iota
	hasSub
	hasAud
	hasExp
	hasNbf
	hasIat
	hasJti
	hasScope
)

// HasExpiresAt reports whether the token has an exp claim.
func (c *Claims) HasExpiresAt() bool { return c.present&hasExp != 0 }

// HasNotBefore reports whether the token has an nbf claim.
func (c *Claims) HasNotBefore() bool { return c.present&hasNbf != 0 }

// HasIssuedAt reports whether the token has an iat claim.
func (c *Claims) HasIssuedAt() bool { return c.present&hasIat != 0 }

// Raw returns the decoded payload JSON.
func (c *Claims) Raw() []byte { return c.raw }

// Lookup returns the raw JSON value of the top-level claim name (for a
// string, including its quotes and escapes) and whether the claim exists.
// It does not allocate.
func (c *Claims) Lookup(name string) ([]byte, bool) {
	var s objectScanner
	if !s.open(c.raw) {
		return nil, false
	}
	var m member
	for s.next(&m) {
		if !m.nameEsc && string(m.name) == name || m.nameEsc && unescapedEqual(m.name, name) {
			return m.value(c.raw), true
		}
	}
	return nil, false
}

// Has reports whether the token has the top-level claim name.
func (c *Claims) Has(name string) bool {
	_, ok := c.Lookup(name)
	return ok
}

// HasScope reports whether the space-separated scope list contains scope.
func (c *Claims) HasScope(scope string) bool { return hasWord(c.Scope, scope) }

// HasAudience reports whether the audience list contains aud.
func (c *Claims) HasAudience(aud string) bool {
	for _, a := range c.Audience {
		if string(a) == aud {
			return true
		}
	}
	return false
}

// Decode unmarshals the whole payload into v (a struct or map). Unlike the
// rest of Claims it allocates; use it off the hot path, for custom claims.
func (c *Claims) Decode(v any) error { return json.Unmarshal(c.raw, v) }

// hasWord reports whether the space-separated list contains word.
func hasWord(list []byte, word string) bool {
	for len(list) > 0 {
		i := 0
		for i < len(list) && list[i] != ' ' {
			i++
		}
		if string(list[:i]) == word {
			return true
		}
		if i == len(list) {
			break
		}
		list = list[i+1:]
	}
	return false
}

// unescapedEqual compares raw JSON string content (with escapes) to s.
func unescapedEqual(raw []byte, s string) bool {
	var buf [128]byte
	if len(raw) > len(buf) {
		return string(appendUnescaped(nil, raw)) == s
	}
	return string(appendUnescaped(buf[:0], raw)) == s
}

// parseClaims scans the decoded payload into t.Claims. Structural problems
// (not one JSON object, duplicate names) are ErrMalformed or ErrDuplicate;
// a registered claim of the wrong JSON type is ErrClaimType, naming it.
func parseClaims(t *Token, data []byte) error {
	c := &t.Claims
	c.raw = data
	var s objectScanner
	if !s.open(data) {
		return errPayloadJSON
	}
	t.names.reset(maxMembers(len(data)))
	var m member
	var typeErr error
	var seen uint16 // registered claims met so far, by claimID
	for s.next(&m) {
		name := t.unescape(m.name, m.nameEsc)
		id := registeredClaim(name)
		if id == notRegistered {
			if !t.names.add(name) {
				return errClaimDup
			}
			continue
		}
		if seen&(1<<id) != 0 {
			return errClaimDup
		}
		seen |= 1 << id
		if err := t.readClaim(id, &m); err != nil && typeErr == nil {
			typeErr = err
		}
	}
	if !s.done() {
		return errPayloadJSON
	}
	return typeErr
}

// claimID names a claim Claims reads. Registered claims are checked for
// duplicates with a bit each; other names go through the nameSet.
type claimID uint8

const (
	notRegistered claimID = iota
	claimIss
	claimSub
	claimJti
	claimAud
	claimExp
	claimNbf
	claimIat
	claimScope
	claimScp
)

func registeredClaim(name []byte) claimID {
	switch string(name) {
	case "iss":
		return claimIss
	case "sub":
		return claimSub
	case "jti":
		return claimJti
	case "aud":
		return claimAud
	case "exp":
		return claimExp
	case "nbf":
		return claimNbf
	case "iat":
		return claimIat
	case "scope":
		return claimScope
	case "scp":
		return claimScp
	}
	return notRegistered
}

// readClaim stores one registered claim into t.Claims.
func (t *Token) readClaim(id claimID, m *member) error {
	c := &t.Claims
	switch id {
	case claimIss:
		if m.kind != kindString {
			return errTypeIss
		}
		c.Issuer, c.present = t.unescape(m.raw, m.esc), c.present|hasIss
	case claimSub:
		if m.kind != kindString {
			return errTypeSub
		}
		c.Subject, c.present = t.unescape(m.raw, m.esc), c.present|hasSub
	case claimJti:
		if m.kind != kindString {
			return errTypeJti
		}
		c.ID, c.present = t.unescape(m.raw, m.esc), c.present|hasJti
	case claimAud:
		if !t.readStrings(m, &c.Audience) {
			return errTypeAud
		}
		c.present |= hasAud
	case claimExp, claimNbf, claimIat:
		return t.readDate(id, m)
	case claimScope:
		if m.kind != kindString {
			return errTypeScope
		}
		c.Scope, c.present = t.unescape(m.raw, m.esc), c.present|hasScope // "scope" wins over "scp"
	case claimScp:
		if !t.readScp(m) {
			return errTypeScp
		}
	}
	return nil
}

func (t *Token) readDate(id claimID, m *member) error {
	c := &t.Claims
	var dst *int64
	var bit claimBits
	var typeErr error
	switch id {
	case claimExp:
		dst, bit, typeErr = &c.ExpiresAt, hasExp, errTypeExp
	case claimNbf:
		dst, bit, typeErr = &c.NotBefore, hasNbf, errTypeNbf
	default:
		dst, bit, typeErr = &c.IssuedAt, hasIat, errTypeIat
	}
	if m.kind != kindNumber {
		return typeErr
	}
	*dst, c.present = parseNumericDate(m.raw), c.present|bit
	return nil
}

// readStrings reads a string or an array of strings into *out, reusing its
// backing array.
func (t *Token) readStrings(m *member, out *[][]byte) bool {
	list := (*out)[:0]
	ok := false
	switch m.kind {
	case kindString:
		list, ok = append(list, t.unescape(m.raw, m.esc)), true
	case kindArray:
		ok = eachString(m.raw, func(raw []byte, esc bool) {
			list = append(list, t.unescape(raw, esc))
		})
	}
	*out = list
	return ok
}

// readScp reads "scp", a string or an array of strings, as a space-separated
// list; an explicit "scope" claim takes precedence.
func (t *Token) readScp(m *member) bool {
	c := &t.Claims
	switch m.kind {
	case kindString:
		if c.present&hasScope == 0 {
			c.Scope = t.unescape(m.raw, m.esc)
		}
		return true
	case kindArray:
		start, n := len(t.buf), 0
		ok := eachString(m.raw, func(raw []byte, esc bool) {
			if n > 0 { // a separator per element, even after an empty one
				t.buf = append(t.buf, ' ')
			}
			n++
			t.buf = appendUnescaped(t.buf, raw)
		})
		if ok && c.present&hasScope == 0 {
			c.Scope = t.buf[start:len(t.buf):len(t.buf)]
		}
		return ok
	}
	return false
}

// eachString calls fn for each element of the validated JSON array raw and
// reports false if any element is not a string.
func eachString(raw []byte, fn func(raw []byte, esc bool)) bool {
	i := skipWS(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		if raw[i] != '"' {
			return false
		}
		end, esc, _ := scanString(raw, i)
		fn(raw[i+1:end-1], esc)
		if i = skipWS(raw, end); raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
	return true
}

// parseNumericDate reads a validated JSON number as Unix seconds, truncating
// fractions toward negative infinity and clamping to the int64 range.
func parseNumericDate(raw []byte) int64 {
	if len(raw) > 0 && len(raw) <= 18 && raw[0] != '-' {
		var n int64
		for _, c := range raw {
			if c < '0' || c > '9' {
				goto float
			}
			n = n*10 + int64(c-'0')
		}
		return n
	}
float:
	// raw is a valid JSON number, so the only error is ErrRange, for which
	// ParseFloat returns ±Inf or 0: both are right here.
	f, _ := strconv.ParseFloat(b2s(raw), 64)
	f = math.Floor(f)
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
