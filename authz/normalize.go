package authz

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// DenialURIEncoding refuses an original request whose path cannot be matched
// against routes with certainty (NormalizePath reported false). It is 403,
// like the other refusals about the original request: nginx auth_request
// takes any status other than 2xx, 401 and 403 for an error of its own.
var DenialURIEncoding = NewDenial(403, "", "uri_encoding",
	`the original request path has an escaped "/", "\" or "%", an escaped or parameterized dot segment ("%2e%2e", "..;"), a backslash, a control character, an invalid escape or invalid UTF-8: the upstream could serve another path than the one the route rules see; send the path as the client sent it, without such sequences`)

// NormalizePath appends to dst the path of an original request (raw, as
// the client or the proxy sent it, query removed) as routes see it — the
// form Request.Path wants — and reports whether it is unambiguous; when it
// is not, the front end refuses the request with DenialURIEncoding.
//
// Routes must see the path the upstream serves, or something stricter: a
// route for /admin must never miss a request the upstream routes to
// /admin. Upstreams differ, so only what every one of them reads alike is
// normalized, and the rest is refused:
//   - percent escapes are decoded (either case of hex digit), except that an
//     escaped '/', '\' or '%' (double encoding) is refused, as is an invalid
//     escape ("%zz", "%4"), a control character (raw or escaped: NUL, %00,
//     DEL), a raw backslash or '#', and a result that is not valid UTF-8
//     (overlong forms such as %c0%af for '/');
//   - repeated slashes are merged ("//admin" is "/admin", as nginx routes it);
//   - raw "." and ".." segments are resolved (RFC 3986 §5.2.4), but one
//     that was escaped ("%2e%2e") or carries a parameter ("..;x", which
//     Tomcat reads as "..") is refused;
//   - ';' parameters on other segments are kept: a route's literal segment
//     and a prefix's word boundary cover "/admin;jsessionid=1".
//
// It allocates only when dst is too small.
func NormalizePath(dst, raw []byte) ([]byte, bool) {
	if len(raw) == 0 || raw[0] != '/' {
		return dst, false
	}
	if plainPath(raw) {
		return append(dst, raw...), true
	}
	start := len(dst)
	dotLast := false
	for i := 0; i < len(raw); {
		for i < len(raw) && raw[i] == '/' {
			i++
		}
		if i == len(raw) {
			break
		}
		mark := len(dst)
		dst = append(dst, '/')
		escaped, params := false, -1
		for ; i < len(raw) && raw[i] != '/'; i++ {
			c := raw[i]
			switch {
			case c == '%':
				if i+2 >= len(raw) || !isHexDigit(raw[i+1]) || !isHexDigit(raw[i+2]) {
					return dst, false
				}
				c = unhex(raw[i+1])<<4 | unhex(raw[i+2])
				if c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7f {
					return dst, false
				}
				escaped = true
				i += 2
			case c < 0x20 || c == 0x7f || c == '\\' || c == '#':
				return dst, false
			case c == ';' && params < 0:
				params = len(dst) - mark - 1
			}
			dst = append(dst, c)
		}
		seg := dst[mark+1:]
		base := seg
		if params >= 0 {
			base = seg[:params]
		}
		dotLast = isDotSegment(base)
		if !dotLast {
			continue
		}
		if escaped || params >= 0 {
			return dst, false
		}
		dst = dst[:mark]
		if len(base) == 2 { // "..": drop the previous segment
			for len(dst) > start && dst[len(dst)-1] != '/' {
				dst = dst[:len(dst)-1]
			}
			if len(dst) > start {
				dst = dst[:len(dst)-1]
			}
		}
	}
	// A trailing slash, or a final dot segment, leaves the path ending in
	// '/' ("/a/" and "/a/b/.." are both "/a/"); the empty path is "/".
	if len(dst) == start || raw[len(raw)-1] == '/' || dotLast {
		dst = append(dst, '/')
	}
	return dst, utf8.Valid(dst[start:])
}

// NormalizeTarget is NormalizePath for an origin-form request target
// ("/path?query", as a forwarded URI header carries it): it splits off the
// query at the first '?' and normalizes the path before it, in one scan of
// a plain path. query is what follows the '?' (raw), nil when there is none.
//
// It allocates only when dst is too small.
func NormalizeTarget(dst, target []byte) (path, query []byte, ok bool) {
	if len(target) == 0 || target[0] != '/' {
		return dst, nil, false
	}
	// Eight bytes at a time while they are plain; the byte loop takes over
	// at the first word that is not: the query, or a byte to look at
	// closely. In a word w (little-endian: the first byte lowest), a lane
	// is marked by its high bit.
	i, carry := 1, uint64(0x80) // carry: the byte before w is '/'
	for ; i+8 <= len(target); i += 8 {
		w := binary.LittleEndian.Uint64(target[i:])
		// A '/' or '.' after a '/': not a plain path, whatever else is.
		slash := zeroLanes(w ^ '/'*lanes01)
		if (slash<<8|carry)&(slash|zeroLanes(w^'.'*lanes01)) != 0 {
			return normalizeSplit(dst, target)
		}
		// A lane below 0x21 (no borrow crosses into a lane otherwise), at
		// or above 0x80, one of the bytes plainPath refuses, or '?'.
		odd := (w-0x21*lanes01)&^w | w |
			hasZeroLane(w^0x7f*lanes01) | hasZeroLane(w^'%'*lanes01) | hasZeroLane(w^'\\'*lanes01) |
			hasZeroLane(w^'#'*lanes01) | hasZeroLane(w^'?'*lanes01)
		if odd&lanes80 != 0 {
			break
		}
		carry = slash >> 56
	}
	for ; i < len(target); i++ {
		switch pathClass[target[i]] {
		case pathQuery:
			return append(dst, target[:i]...), target[i+1:], true
		case pathBad:
			return normalizeSplit(dst, target)
		case pathSlashDot:
			if target[i-1] == '/' {
				return normalizeSplit(dst, target)
			}
		}
	}
	return append(dst, target...), nil, true
}

// Bytes repeated in every lane of a word, for NormalizeTarget.
const (
	lanes01 = 0x0101010101010101
	lanes7f = 0x7f7f7f7f7f7f7f7f
	lanes80 = 0x8080808080808080
)

// zeroLanes marks (0x80) the lanes of w that are zero, exactly: no lane is
// marked by a carry out of another.
func zeroLanes(w uint64) uint64 {
	return ^((w&lanes7f + lanes7f) | w | lanes7f)
}

// hasZeroLane reports (nonzero) whether some lane of w is zero: exact as a
// whole, though lanes above a zero one may be marked too.
func hasZeroLane(w uint64) uint64 { return (w - lanes01) &^ w }

// normalizeSplit is NormalizeTarget for a path that is not plain.
func normalizeSplit(dst, target []byte) (path, query []byte, ok bool) {
	if q := bytes.IndexByte(target, '?'); q >= 0 {
		target, query = target[:q], target[q+1:]
	}
	path, ok = NormalizePath(dst, target)
	return path, query, ok
}

// plainPath reports whether raw (starting with '/') is already normalized:
// printable ASCII without '%', '\\' or '#', no empty segment but a final one,
// no segment starting with a dot. Most paths are: they are copied as they
// are. One table load per byte decides (see pathClass).
func plainPath(raw []byte) bool {
	for i := 1; i < len(raw); i++ {
		switch pathClass[raw[i]] {
		case pathBad:
			return false
		case pathSlashDot:
			if raw[i-1] == '/' {
				return false
			}
		}
	}
	return true
}

// Classes of a path byte for plainPath.
const (
	pathBad      = iota // never in a plain path: a control character, space, '%', '\\', '#', DEL, non-ASCII
	pathPlain           // printable ASCII that may follow anything
	pathSlashDot        // '/' or '.': not right after a '/'
	pathQuery           // '?': plain in a path; where NormalizeTarget's query starts
)

var pathClass = func() (t [256]uint8) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = pathPlain
	}
	t['%'], t['\\'], t['#'] = pathBad, pathBad, pathBad
	t['/'], t['.'] = pathSlashDot, pathSlashDot
	t['?'] = pathQuery
	return t
}()

func isDotSegment(s []byte) bool {
	return len(s) == 1 && s[0] == '.' || len(s) == 2 && s[0] == '.' && s[1] == '.'
}
