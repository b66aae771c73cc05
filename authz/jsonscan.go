package authz

import (
	"bytes"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The engine has validated a verified token's payload strictly (RFC 8259,
// UTF-8, no duplicate members). The functions below navigate such JSON
// without allocating; they stay inside the slice and report failure on
// anything else, so that malformed input can neither panic nor match.

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

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(d []byte, i int) int {
	for i < len(d) && isWS(d[i]) {
		i++
	}
	return i
}

// kindAt returns the kind of the value starting at d[i].
func kindAt(d []byte, i int) jsonKind {
	if i >= len(d) {
		return kindInvalid
	}
	switch c := d[i]; {
	case c == '"':
		return kindString
	case c == '{':
		return kindObject
	case c == '[':
		return kindArray
	case c == 't' || c == 'f':
		return kindBool
	case c == 'n':
		return kindNull
	case c == '-' || c >= '0' && c <= '9':
		return kindNumber
	}
	return kindInvalid
}

// stringEnd returns the index just past the string starting at d[i] (a
// quote) and whether it holds escapes; ok is false when it is unterminated.
// Claim names and most values are short: a plain loop finds their end
// fastest; a long string is searched with the vectorized IndexByte.
func stringEnd(d []byte, i int) (end int, esc, ok bool) {
	j := i + 1
	for stop := min(len(d), j+32); j < stop; j++ {
		switch d[j] {
		case '"':
			return j + 1, esc, true
		case '\\':
			esc = true
			j++
		}
	}
	for j < len(d) {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			break
		}
		q := j + k
		n := 0 // backslashes right before the quote
		for p := q - 1; p > i && d[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, esc || n > 0 || bytes.IndexByte(d[i+1:q], '\\') >= 0, true
		}
		j = q + 1
	}
	return len(d), false, false
}

// valueEnd returns the index just past the value starting at d[i].
func valueEnd(d []byte, i int) (end int, ok bool) {
	switch kindAt(d, i) {
	case kindString:
		end, _, ok = stringEnd(d, i)
		return end, ok
	case kindObject, kindArray:
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				e, _, ok := stringEnd(d, j)
				if !ok {
					return len(d), false
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(d), false
	case kindInvalid:
		return i, false
	}
	j := i
	for j < len(d) && d[j] != ',' && d[j] != '}' && d[j] != ']' && !isWS(d[j]) {
		j++
	}
	return j, j > i
}

// member finds the member name in the object obj (a whole JSON value) and
// returns its value.
func member(obj []byte, name string) ([]byte, bool) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipWS(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		end, esc, ok := stringEnd(obj, i)
		if !ok {
			return nil, false
		}
		raw := obj[i+1 : end-1]
		i = skipWS(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipWS(obj, i+1)
		vend, ok := valueEnd(obj, i)
		if !ok {
			return nil, false
		}
		if !esc && string(raw) == name || esc && unescapedEqual(raw, name) {
			return obj[i:vend], true
		}
		i = skipWS(obj, vend)
		if i < len(obj) && obj[i] == ',' {
			i = skipWS(obj, i+1)
		}
	}
	return nil, false
}

// eachElement calls fn with every element of the array arr (a whole JSON
// value) until fn returns true, and reports whether it did.
func eachElement(arr []byte, fn func(v []byte) bool) bool {
	i := skipWS(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return false
	}
	i = skipWS(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end, ok := valueEnd(arr, i)
		if !ok {
			return false
		}
		if fn(arr[i:end]) {
			return true
		}
		i = skipWS(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipWS(arr, i+1)
		}
	}
	return false
}

// unescapedEqual reports whether the raw content of a JSON string (between
// its quotes, escapes unresolved) equals s once unescaped.
func unescapedEqual(raw []byte, s string) bool {
	rest, ok := unescapedPrefix(raw, s)
	return ok && rest == len(raw)
}

// unescapedPrefix reports whether the unescaped content of raw starts with s,
// and where in raw the rest begins.
func unescapedPrefix(raw []byte, s string) (rest int, ok bool) {
	i := 0
	var tmp [utf8.UTFMax]byte
	for len(s) > 0 {
		if i >= len(raw) {
			return i, false
		}
		c := raw[i]
		if c != '\\' {
			if c != s[0] {
				return i, false
			}
			i++
			s = s[1:]
			continue
		}
		r, n := unescapeAt(raw, i)
		if n == 0 {
			return i, false
		}
		i += n
		w := utf8.EncodeRune(tmp[:], r)
		if len(s) < w || string(tmp[:w]) != s[:w] {
			return i, false
		}
		s = s[w:]
	}
	return i, true
}

// unescapeAt decodes the escape at raw[i] (a backslash) and returns the
// rune and the escape's length, 0 when it is not valid.
func unescapeAt(raw []byte, i int) (rune, int) {
	if i+1 >= len(raw) {
		return 0, 0
	}
	switch raw[i+1] {
	case '"':
		return '"', 2
	case '\\':
		return '\\', 2
	case '/':
		return '/', 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r, ok := hex4(raw, i+2)
		if !ok {
			return 0, 0
		}
		if r >= 0xd800 && r < 0xdc00 { // high surrogate: a low one must follow
			if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
				if lo, ok := hex4(raw, i+8); ok && lo >= 0xdc00 && lo < 0xe000 {
					return (r-0xd800)<<10 | (lo - 0xdc00) + 0x10000, 12
				}
			}
			return utf8.RuneError, 6
		}
		if r >= 0xdc00 && r < 0xe000 {
			return utf8.RuneError, 6
		}
		return r, 6
	}
	return 0, 0
}

func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	var r rune
	for _, c := range raw[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// appendUnescaped appends the unescaped content of the JSON string content
// raw to dst; invalid escapes are dropped.
func appendUnescaped(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := unescapeAt(raw, i)
		if n == 0 {
			i++
			continue
		}
		dst = utf8.AppendRune(dst, r)
		i += n
	}
	return dst
}

// parseNumber reads a JSON number.
func parseNumber(v []byte) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(v), len(v)), 64)
	return f, err == nil
}

// appendCompact appends the JSON value v without insignificant whitespace.
func appendCompact(dst, v []byte) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			end, _, _ := stringEnd(v, i)
			dst = append(dst, v[i:end]...)
			i = end - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
