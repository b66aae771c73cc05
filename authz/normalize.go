package authz

// NormalizePath appends to dst the path of a request target as a proxy
// routes it, which is the form Request.Path wants: percent-decoded, with
// duplicate slashes merged and dot segments removed (RFC 3986 §5.2.4),
// always starting with '/'. A segment that is a dot segment followed by path
// parameters ("..;x") counts as one, as servlet containers read it. raw is
// the path alone, without query or fragment. It allocates only if dst must
// grow.
func NormalizePath(dst, raw []byte) []byte {
	start := len(dst)
	dst = append(dst, '/')
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) && isHexDigit(raw[i+1]) && isHexDigit(raw[i+2]) {
			c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
			i += 2
		}
		dst = append(dst, c)
	}
	b := dst[start:]
	w := 1 // b[:w] is the output so far; b[0] is '/'
	for r := 1; r <= len(b); {
		e := r
		for e < len(b) && b[e] != '/' {
			e++
		}
		seg := b[r:e]
		switch dotSegment(seg) {
		case 1: // "."
		case 2: // "..": drop the last output segment
			if w > 1 {
				w--
				for w > 1 && b[w-1] != '/' {
					w--
				}
			}
		default:
			if len(seg) > 0 {
				w += copy(b[w:], seg)
				if e < len(b) {
					b[w] = '/'
					w++
				}
			}
		}
		r = e + 1
	}
	return dst[:start+w]
}

// dotSegment reports 1 for ".", 2 for "..", 0 otherwise; path parameters
// after ';' are ignored.
func dotSegment(seg []byte) int {
	for i, c := range seg {
		if c == ';' {
			seg = seg[:i]
			break
		}
	}
	switch string(seg) {
	case ".":
		return 1
	case "..":
		return 2
	}
	return 0
}
