package engine

import (
	"encoding/binary"
	"math"
	"math/bits"
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

// parseClaims scans the decoded payload into t.Claims in one pass that both
// validates the JSON and reads the registered claims as it meets them.
// plain says that data is plain (see plainASCII): then strings are found by
// their closing quote alone. Structural problems (not one JSON object,
// duplicate names) are ErrMalformed or ErrDuplicate; a registered claim of
// the wrong JSON type is ErrClaimType, naming it. A duplicate is reported as
// soon as it is met; a type error only once the whole object has proved
// well formed.
func parseClaims(t *Token, data []byte, plain bool) error {
	return parseClaimsBeside(t, data, plain, nil)
}

// parseClaimsBeside is parseClaims that also advances run, if not nil, by
// one compression after each member, so that the HMAC's dependency chain
// and the scan run side by side (see hmacRun).
func parseClaimsBeside(t *Token, data []byte, plain bool, run *hmacRun) error {
	c := &t.Claims
	c.raw = data
	d := data
	i := skipWS(d, 0)
	if i >= len(d) || d[i] != '{' {
		return errPayloadJSON
	}
	i = skipWS(d, i+1)
	var typeErr error
	var seen uint16 // registered claims met so far, by claimID
	namesReady := false
	if i < len(d) && d[i] == '}' {
		return endOfObject(d, i+1, typeErr)
	}
	for {
		if i >= len(d) || d[i] != '"' {
			return errPayloadJSON
		}
		// The registered names, spelled without escapes, straight from
		// their bytes; anything else is scanned and compared.
		id, end := notRegistered, 0
		var name []byte
		if len(d)-i >= 8 {
			id, end = registeredName(binary.LittleEndian.Uint64(d[i:i+8:i+8]), i)
		}
		if id == notRegistered {
			var esc, ok bool
			if end, esc, ok = scanStringIn(d, i, plain); !ok {
				return errPayloadJSON
			}
			name = t.unescape(d[i+1:end-1], esc)
			id = registeredClaim(name)
		}
		// The separators: what a token normally has first, whitespace
		// only when that fails.
		i = end
		if i >= len(d) || d[i] != ':' {
			if i = skipWS(d, i); i >= len(d) || d[i] != ':' {
				return errPayloadJSON
			}
		}
		i++
		if i < len(d) && isWS(d[i]) {
			i = skipWS(d, i)
		}
		start := i
		var v claimValue
		var valueEnd int
		var ok, isInt bool
		var n int64
		if i < len(d) && d[i] == '"' {
			v.kind = kindString
			if plain { // quoteAfter, inline: the closing quote, a word at a time
				ok = true
				for j, stop := i+1, min(len(d), i+65); ; j += 8 {
					if j+8 > stop { // near the end, or a long string
						valueEnd, ok = indexQuote(d, j)
						break
					}
					if f := quoteFlags(binary.LittleEndian.Uint64(d[j : j+8 : j+8])); f != 0 {
						valueEnd = j + bits.TrailingZeros64(f)/8 + 1
						break
					}
				}
			} else {
				valueEnd, v.esc, ok = scanString(d, i)
			}
		} else if n, valueEnd, isInt = smallInt(d, i); isInt {
			v.kind, ok = kindNumber, true
		} else {
			v.kind, valueEnd, v.esc, ok = scanValue(d, i, 1, plain)
		}
		if !ok {
			return errPayloadJSON
		}
		if id == notRegistered {
			if !namesReady { // only tokens with other claims need the set
				t.names.reset(maxMembers(len(data)))
				namesReady = true
			}
			if !t.names.add(name) {
				return errClaimDup
			}
		} else {
			if seen&(1<<id) != 0 {
				return errClaimDup
			}
			seen |= 1 << id
			var err error
			switch {
			case v.kind == kindString && id <= claimJti: // iss, sub, jti: the common case, inline
				s := t.unescape(d[start+1:valueEnd-1], v.esc)
				switch id {
				case claimIss:
					c.Issuer, c.present = s, c.present|hasIss
				case claimSub:
					c.Subject, c.present = s, c.present|hasSub
				default:
					c.ID, c.present = s, c.present|hasJti
				}
			case v.kind == kindString && (id == claimAud || id == claimScope): // as strings: inline too
				s := t.unescape(d[start+1:valueEnd-1], v.esc)
				if id == claimAud { // one audience, the usual form
					c.Audience, c.present = append(c.Audience[:0], s), c.present|hasAud
				} else {
					c.Scope, c.present = s, c.present|hasScope // "scope" wins over "scp"
				}
			case isInt && id >= claimExp && id <= claimIat:
				c.setDate(id, n)
			default:
				if v.kind == kindString {
					v.raw = d[start+1 : valueEnd-1]
				} else {
					v.raw = d[start:valueEnd]
				}
				err = t.readClaim(id, &v, plain)
			}
			if err != nil && typeErr == nil {
				typeErr = err
			}
		}
		if run != nil && len(run.rest) >= 64 { // no call once the whole blocks are done
			run.step()
		}
		i = valueEnd
		if i >= len(d) || d[i] != ',' {
			if i = skipWS(d, i); i < len(d) && d[i] == '}' {
				return endOfObject(d, i+1, typeErr)
			}
			if i >= len(d) || d[i] != ',' {
				return errPayloadJSON
			}
		}
		i++
		if i < len(d) && isWS(d[i]) {
			i = skipWS(d, i)
		}
	}
}

// endOfObject returns err if only whitespace follows the payload's object,
// which ended at d[i-1], and errPayloadJSON otherwise.
func endOfObject(d []byte, i int, err error) error {
	if skipWS(d, i) != len(d) {
		return errPayloadJSON
	}
	return err
}

// smallInt reads the number at d[i] if it is a positive integer of at most
// 15 digits, without fraction or exponent — a NumericDate's usual form —
// and returns its value and the index just past it. ok is false for any
// other value, which the general scanner then reads.
func smallInt(d []byte, i int) (n int64, end int, ok bool) {
	if i >= len(d) || d[i]-'1' > 8 {
		return 0, i, false
	}
	if len(d)-i < 16 { // near the end: byte by byte
		j := i
		for j < len(d) && d[j]-'0' <= 9 {
			n = n*10 + int64(d[j]-'0')
			j++
		}
		if j-i > 15 || j < len(d) && (d[j] == '.' || d[j]|0x20 == 'e') {
			return 0, i, false
		}
		return n, j, true
	}
	w0 := binary.LittleEndian.Uint64(d[i : i+8 : i+8])
	w1 := binary.LittleEndian.Uint64(d[i+8 : i+16 : i+16])
	k0 := leadingDigits(w0)
	j := i + k0
	if k0 < 8 {
		n = int64(digitsValue(w0, k0))
	} else {
		// A NumericDate of today has ten digits: two more after the first
		// word and then a non-digit, read from the second word's low bytes
		// without its SWAR.
		if t0, t1, t2 := byte(w1)-'0', byte(w1>>8)-'0', byte(w1>>16); t0 <= 9 && t1 <= 9 && t2-'0' > 9 {
			if t2 == '.' || t2|0x20 == 'e' {
				return 0, i, false
			}
			return int64(digitsValue(w0, 8)*100 + uint64(t0)*10 + uint64(t1)), i + 10, true
		}
		k1 := leadingDigits(w1)
		if k1 == 8 { // 16 digits or more
			return 0, i, false
		}
		n = int64(digitsValue(w0, 8))
		if k1 > 0 {
			n = n*int64(pow10[k1]) + int64(digitsValue(w1, k1))
			j += k1
		}
	}
	if d[j] == '.' || d[j]|0x20 == 'e' { // j < i+16: a non-digit ended the run
		return 0, i, false
	}
	return n, j, true
}

// pow10 holds the powers of ten up to 10^8.
var pow10 = [9]uint64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// leadingDigits returns how many of the eight bytes of w (little-endian),
// from the first, are ASCII digits before the first byte that is not.
func leadingDigits(w uint64) int {
	const highs, low7 = 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	// A byte of z is zero exactly for a digit: high nibble 3, low nibble at
	// most 9 (adding 6 carries into the high nibble from 10 on).
	z := (w&0xf0f0f0f0f0f0f0f0 ^ 0x3030303030303030) | (w&0x0f0f0f0f0f0f0f0f+0x0606060606060606)&0xf0f0f0f0f0f0f0f0
	nonzero := ((z & low7) + low7 | z) & highs
	return bits.TrailingZeros64(nonzero) / 8 // 64/8 = 8 when all are digits
}

// digitsValue returns the value of the first k (1 to 8) bytes of w, which
// are ASCII digits, the first the most significant: the digits are moved
// to the top of the word, behind zeros, and combined pairwise in three
// multiplications.
func digitsValue(w uint64, k int) uint64 {
	v := (w & 0x0f0f0f0f0f0f0f0f) << (8 * (8 - k) & 63)
	v = (v * 10) + (v >> 8)
	v = ((v&0x000000ff000000ff)*(100+1000000<<32) + ((v>>16)&0x000000ff000000ff)*(1+10000<<32)) >> 32
	return v
}

// claimID names a claim Claims reads. Registered claims are checked for
// duplicates with a bit each; other names go through the nameSet. The
// order matters to parseClaims: the plain strings iss, sub and jti come
// first, the NumericDates exp, nbf and iat together.
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

// The registered names with their quotes, as little-endian words.
const (
	quotedIss   = '"' | 'i'<<8 | 's'<<16 | 's'<<24 | '"'<<32
	quotedSub   = '"' | 's'<<8 | 'u'<<16 | 'b'<<24 | '"'<<32
	quotedJti   = '"' | 'j'<<8 | 't'<<16 | 'i'<<24 | '"'<<32
	quotedAud   = '"' | 'a'<<8 | 'u'<<16 | 'd'<<24 | '"'<<32
	quotedExp   = '"' | 'e'<<8 | 'x'<<16 | 'p'<<24 | '"'<<32
	quotedNbf   = '"' | 'n'<<8 | 'b'<<16 | 'f'<<24 | '"'<<32
	quotedIat   = '"' | 'i'<<8 | 'a'<<16 | 't'<<24 | '"'<<32
	quotedScp   = '"' | 's'<<8 | 'c'<<16 | 'p'<<24 | '"'<<32
	quotedScope = '"' | 's'<<8 | 'c'<<16 | 'o'<<24 | 'p'<<32 | 'e'<<40 | '"'<<48
)

// registeredName recognizes a registered name spelled without escapes in
// w, the eight bytes from its opening quote at d[i], and returns its
// claimID and the index just past its closing quote; notRegistered if w
// starts with no such name.
func registeredName(w uint64, i int) (claimID, int) {
	var id claimID
	switch w & (1<<40 - 1) {
	case quotedIss:
		id = claimIss
	case quotedSub:
		id = claimSub
	case quotedJti:
		id = claimJti
	case quotedAud:
		id = claimAud
	case quotedExp:
		id = claimExp
	case quotedNbf:
		id = claimNbf
	case quotedIat:
		id = claimIat
	case quotedScp:
		id = claimScp
	default:
		if w&(1<<56-1) == quotedScope {
			return claimScope, i + 7
		}
		return notRegistered, i
	}
	return id, i + 5
}

// claimValue is the value of a registered claim: its kind and, for a
// string, its raw content between the quotes (escapes unresolved), else the
// whole value.
type claimValue struct {
	raw  []byte
	kind jsonKind
	esc  bool
}

// readClaim stores one registered claim into t.Claims.
func (t *Token) readClaim(id claimID, m *claimValue, plain bool) error {
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
		if !t.readStrings(m, plain, &c.Audience) {
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
		if !t.readScp(m, plain) {
			return errTypeScp
		}
	}
	return nil
}

func (t *Token) readDate(id claimID, m *claimValue) error {
	if m.kind != kindNumber {
		switch id {
		case claimExp:
			return errTypeExp
		case claimNbf:
			return errTypeNbf
		}
		return errTypeIat
	}
	t.Claims.setDate(id, parseNumericDate(m.raw))
	return nil
}

// setDate stores the NumericDate claim id (exp, nbf or iat).
func (c *Claims) setDate(id claimID, n int64) {
	switch id {
	case claimExp:
		c.ExpiresAt, c.present = n, c.present|hasExp
	case claimNbf:
		c.NotBefore, c.present = n, c.present|hasNbf
	default:
		c.IssuedAt, c.present = n, c.present|hasIat
	}
}

// readStrings reads a string or an array of strings into *out, reusing its
// backing array.
func (t *Token) readStrings(m *claimValue, plain bool, out *[][]byte) bool {
	list := (*out)[:0]
	ok := false
	switch m.kind {
	case kindString:
		list, ok = append(list, t.unescape(m.raw, m.esc)), true
	case kindArray:
		ok = eachString(m.raw, plain, func(raw []byte, esc bool) {
			list = append(list, t.unescape(raw, esc))
		})
	}
	*out = list
	return ok
}

// readScp reads "scp", a string or an array of strings, as a space-separated
// list; an explicit "scope" claim takes precedence.
func (t *Token) readScp(m *claimValue, plain bool) bool {
	c := &t.Claims
	switch m.kind {
	case kindString:
		if c.present&hasScope == 0 {
			c.Scope = t.unescape(m.raw, m.esc)
		}
		return true
	case kindArray:
		start, n := len(t.buf), 0
		ok := eachString(m.raw, plain, func(raw []byte, esc bool) {
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
// reports false if any element is not a string. plain is as for scanValue.
func eachString(raw []byte, plain bool, fn func(raw []byte, esc bool)) bool {
	i := skipWS(raw, 1)
	for i < len(raw) && raw[i] != ']' {
		if raw[i] != '"' {
			return false
		}
		end, esc, _ := scanStringIn(raw, i, plain)
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
