package server

import "unicode/utf8"

// The helpers below render a claim's raw JSON value (from engine
// Claims.Lookup, already validated by the engine's strict scanner) as a
// header value, without allocating. They stay defensive anyway: malformed
// input yields ok=false, never a panic.

// appendClaimValue appends the header rendering of the raw JSON value v:
// a string's unescaped content, a number or boolean as written, null as
// nothing, an array's elements joined by sep (strings unescaped, others
// compact JSON), an object as compact JSON.
func appendClaimValue(dst, v []byte, sep string) ([]byte, bool) {
	if len(v) == 0 {
		return dst, true
	}
	switch v[0] {
	case '"':
		end, ok := stringEnd(v, 0)
		if !ok || end != len(v) {
			return dst, false
		}
		return appendUnescaped(dst, v[1:end-1])
	case 'n':
		return dst, string(v) == "null"
	case '[':
		return appendJoined(dst, v, sep)
	case '{':
		return appendCompact(dst, v)
	}
	return append(dst, v...), true
}

// appendJoined appends the elements of the JSON array v joined by sep.
func appendJoined(dst, v []byte, sep string) ([]byte, bool) {
	i := skipSpace(v, 1)
	first := true
	for i < len(v) && v[i] != ']' {
		end, ok := valueEnd(v, i)
		if !ok {
			return dst, false
		}
		if !first {
			dst = append(dst, sep...)
		}
		first = false
		if dst, ok = appendClaimValue(dst, v[i:end], sep); !ok {
			return dst, false
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return dst, i < len(v)
}

// appendCompact appends the JSON value v without insignificant whitespace.
func appendCompact(dst, v []byte) ([]byte, bool) {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			end, ok := stringEnd(v, i)
			if !ok {
				return dst, false
			}
			dst = append(dst, v[i:end]...)
			i = end - 1
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// valueEnd returns the offset just past the JSON value starting at v[i].
func valueEnd(v []byte, i int) (int, bool) {
	if i >= len(v) {
		return i, false
	}
	switch v[i] {
	case '"':
		return stringEnd(v, i)
	case '[', '{':
		depth := 0
		for j := i; j < len(v); j++ {
			switch v[j] {
			case '"':
				end, ok := stringEnd(v, j)
				if !ok {
					return j, false
				}
				j = end - 1
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return len(v), false
	}
	j := i
	for j < len(v) && v[j] != ',' && v[j] != ']' && v[j] != '}' && v[j] != ' ' && v[j] != '\t' && v[j] != '\n' && v[j] != '\r' {
		j++
	}
	return j, j > i
}

// stringEnd returns the offset just past the JSON string starting at v[i].
func stringEnd(v []byte, i int) (int, bool) {
	for j := i + 1; j < len(v); j++ {
		switch v[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return len(v), false
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// appendUnescaped appends the content of a JSON string (between the quotes)
// with its escapes resolved; a lone surrogate becomes U+FFFD.
func appendUnescaped(dst, s []byte) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		if i >= len(s) {
			return dst, false
		}
		switch s[i] {
		case '"', '\\', '/':
			dst = append(dst, s[i])
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
			r, ok := hex4(s, i+1)
			if !ok {
				return dst, false
			}
			i += 4
			if r >= 0xd800 && r < 0xdc00 && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2, ok := hex4(s, i+3); ok && r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 + (r2 - 0xdc00) + 0x10000
					i += 6
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
	return dst, true
}

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
