package engine

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonKind is the type of a JSON value.
type jsonKind uint8

const (
	kindInvalid jsonKind = iota
	kindString
	kindNumber
	kindBool
	kindNull
	kindObject
	kindArray
)

// maxJSONDepth bounds the nesting of arrays and objects inside a header or
// payload, so hostile input cannot make the scanner recurse deeply.
const maxJSONDepth = 32

// member is one member of a JSON object, as found by objectScanner.
type member struct {
	name    []byte // raw name between the quotes, escapes not yet resolved
	nameEsc bool   // name contains backslash escapes
	kind    jsonKind
	raw     []byte // raw value; for strings, the bytes between the quotes
	esc     bool   // string value contains backslash escapes
	start   int    // offset of the value in the scanned data
	end     int    // offset just past the value
}

// value returns the member's whole JSON value in data, quotes included.
func (m *member) value(data []byte) []byte { return data[m.start:m.end] }

// objectScanner validates a JSON text that must be one object (RFC 8259,
// strictly: UTF-8 only, no trailing commas, no comments, no leading zeros)
// and yields its top-level members one by one, without allocation.
type objectScanner struct {
	data   []byte
	pos    int
	first  bool
	closed bool
	bad    bool
}

// open starts scanning data. It returns false if data does not begin with an
// object.
func (s *objectScanner) open(data []byte) bool {
	*s = objectScanner{data: data, first: true}
	s.skipWS()
	if s.pos >= len(data) || data[s.pos] != '{' {
		s.bad = true
		return false
	}
	s.pos++
	s.skipWS()
	if s.pos < len(data) && data[s.pos] == '}' {
		s.pos++
		s.closed = true
	}
	return true
}

// next reads the next member into m. It returns false after the last member
// or on a syntax error; then done reports which. It works on local copies of
// the scanner's state, written back once, and skips whitespace only where
// some is present: token JSON rarely has any.
func (s *objectScanner) next(m *member) bool {
	if s.closed || s.bad {
		return false
	}
	d, i := s.data, s.pos
	if !s.first {
		if i < len(d) && isWS(d[i]) {
			i = skipWS(d, i)
		}
		if i >= len(d) || d[i] != ',' {
			if i < len(d) && d[i] == '}' {
				s.pos, s.closed = i+1, true
			} else {
				s.bad = true
			}
			return false
		}
		i = skipWS(d, i+1)
	}
	s.first = false
	if i >= len(d) || d[i] != '"' {
		s.bad = true
		return false
	}
	end, esc, ok := scanString(d, i)
	if !ok {
		s.bad = true
		return false
	}
	m.name, m.nameEsc = d[i+1:end-1], esc
	i = end
	if i < len(d) && isWS(d[i]) {
		i = skipWS(d, i)
	}
	if i >= len(d) || d[i] != ':' {
		s.bad = true
		return false
	}
	i++
	if i < len(d) && isWS(d[i]) {
		i = skipWS(d, i)
	}
	start := i
	var kind jsonKind
	if i < len(d) && d[i] == '"' {
		kind = kindString
		end, esc, ok = scanString(d, i)
	} else {
		kind, end, esc, ok = scanValue(d, i, 1, false)
	}
	if !ok {
		s.bad = true
		return false
	}
	m.kind, m.esc, m.start, m.end = kind, esc, start, end
	if kind == kindString {
		m.raw = d[start+1 : end-1]
	} else {
		m.raw = d[start:end]
	}
	s.pos = end
	return true
}

// isWS reports whether c is JSON whitespace. Every other byte a scanner
// meets between tokens is above the space, so one comparison answers the
// common case.
func isWS(c byte) bool {
	const ws = 1<<' ' | 1<<'\t' | 1<<'\n' | 1<<'\r'
	return c <= ' ' && ws>>c&1 != 0
}

// done reports whether the whole input was exactly one valid object. Call it
// after next has returned false.
func (s *objectScanner) done() bool {
	if s.bad || !s.closed {
		return false
	}
	s.skipWS()
	return s.pos == len(s.data)
}

func (s *objectScanner) skipWS() { s.pos = skipWS(s.data, s.pos) }

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// scanValue validates the value starting at d[i] (no leading whitespace) and
// returns its kind and the index just past it. plain says that d is plain
// (see plainASCII), so that strings need only their closing quote found.
func scanValue(d []byte, i, depth int, plain bool) (kind jsonKind, end int, esc bool, ok bool) {
	if i >= len(d) {
		return kindInvalid, i, false, false
	}
	switch c := d[i]; {
	case c == '"':
		end, esc, ok = scanStringIn(d, i, plain)
		return kindString, end, esc, ok
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok = scanNumber(d, i)
		return kindNumber, end, false, ok
	case c == 't':
		return kindBool, i + 4, false, hasLiteral(d, i, "true")
	case c == 'f':
		return kindBool, i + 5, false, hasLiteral(d, i, "false")
	case c == 'n':
		return kindNull, i + 4, false, hasLiteral(d, i, "null")
	case c == '{':
		end, ok = scanContainer(d, i, depth, '}', plain)
		return kindObject, end, false, ok
	case c == '[':
		end, ok = scanContainer(d, i, depth, ']', plain)
		return kindArray, end, false, ok
	}
	return kindInvalid, i, false, false
}

func hasLiteral(d []byte, i int, lit string) bool {
	return len(d)-i >= len(lit) && string(d[i:i+len(lit)]) == lit
}

// scanContainer validates the object or array opening at d[i].
func scanContainer(d []byte, i, depth int, closer byte, plain bool) (end int, ok bool) {
	if depth >= maxJSONDepth {
		return i, false
	}
	i = skipWS(d, i+1)
	if i < len(d) && d[i] == closer {
		return i + 1, true
	}
	for {
		if closer == '}' {
			if i >= len(d) || d[i] != '"' {
				return i, false
			}
			if i, _, ok = scanStringIn(d, i, plain); !ok {
				return i, false
			}
			i = skipWS(d, i)
			if i >= len(d) || d[i] != ':' {
				return i, false
			}
			i = skipWS(d, i+1)
		}
		if _, i, _, ok = scanValue(d, i, depth+1, plain); !ok {
			return i, false
		}
		i = skipWS(d, i)
		if i >= len(d) {
			return i, false
		}
		switch d[i] {
		case closer:
			return i + 1, true
		case ',':
			i = skipWS(d, i+1)
		default:
			return i, false
		}
	}
}

// scanStringIn is scanString, or on plain input (see plainASCII) plainString.
func scanStringIn(d []byte, i int, plain bool) (end int, esc bool, ok bool) {
	if plain {
		end, ok = plainString(d, i)
		return end, false, ok
	}
	return scanString(d, i)
}

// plainString returns the index just past the closing quote of the string
// whose opening quote is d[i], in plain input (see plainASCII): there the next
// quote closes it, and every byte before it is valid string content.
func plainString(d []byte, i int) (end int, ok bool) { return quoteAfter(d, i+1) }

// quoteAfter returns the index just past the first quote at or after d[i],
// in plain input. It looks at eight bytes at a time, since strings in a
// token are short, and leaves what is within eight bytes of the end (and
// very long strings) to the vectorized IndexByte.
func quoteAfter(d []byte, i int) (end int, ok bool) {
	for stop := min(len(d), i+64); i+8 <= stop; i += 8 {
		if f := quoteFlags(binary.LittleEndian.Uint64(d[i : i+8 : i+8])); f != 0 {
			return i + bits.TrailingZeros64(f)/8 + 1, true
		}
	}
	return indexQuote(d, i)
}

// quoteFlags returns the top bit of each byte of w (eight bytes of plain
// input, little-endian) that is a quote, and perhaps of bytes after the
// first quote: the lowest flag, the one callers use, is exact because
// plain bytes are below 0x80.
func quoteFlags(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ (ones * '"')
	return (q - ones) &^ q & highs
}

// indexQuote is quoteAfter's IndexByte, out of line.
func indexQuote(d []byte, i int) (end int, ok bool) {
	k := bytes.IndexByte(d[i:], '"')
	if k < 0 {
		return len(d), false
	}
	return i + k + 1, true
}

// scanString validates the string whose opening quote is d[i] and returns the
// index just past its closing quote, and whether it contains escapes.
func scanString(d []byte, i int) (end int, esc bool, ok bool) {
	i++
	for i < len(d) {
		// Eight plain bytes at a time, then byte by byte to the special one.
		for i+8 <= len(d) {
			if sp := special8(binary.LittleEndian.Uint64(d[i : i+8 : i+8])); sp != 0 {
				i += bits.TrailingZeros64(sp) / 8
				break
			}
			i += 8
		}
		for i < len(d) && !strSpecial[d[i]] {
			i++
		}
		if i >= len(d) {
			break
		}
		c := d[i]
		switch {
		case c == '"':
			return i + 1, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(d) {
				return i, esc, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return i, esc, false
				}
				i += 6
			default:
				return i, esc, false
			}
		case c < 0x20:
			return i, esc, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return i, esc, false
			}
			i += size
		}
	}
	return i, esc, false
}

// special8 flags, with the high bit of each byte, the bytes of x (eight
// string bytes, little-endian) that need attention inside a JSON string: a
// quote, a backslash, a control character, or non-ASCII. The SWAR tests can
// flag a plain byte only above a truly special one, so the lowest flag is
// exact and 0 means all eight are plain.
func special8(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := x ^ (ones * '"')
	slash := x ^ (ones * '\\')
	return ((quote-ones)&^quote | (slash-ones)&^slash | (x-ones*0x20)&^x | x) & highs
}

// strSpecial marks the bytes that need attention inside a JSON string: the
// quote, the backslash, control characters and the start of non-ASCII.
var strSpecial = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80
	}
	return t
}()

// scanNumber validates the RFC 8259 number starting at d[i].
func scanNumber(d []byte, i int) (end int, ok bool) {
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		return i, false
	}
	if i < len(d) && d[i] == '.' {
		j := skipDigits(d, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := skipDigits(d, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	default:
		return rune(c - 'A' + 10)
	}
}

// appendUnescaped appends the string whose raw, already validated content is
// raw (escapes unresolved) to dst, resolving escapes as encoding/json does:
// a lone UTF-16 surrogate becomes U+FFFD.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xdc00 && len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, hex4(raw[i+2:])); r2 != utf8.RuneError {
						dst = utf8.AppendRune(dst, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}
