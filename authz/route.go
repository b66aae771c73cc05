package authz

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
)

// Bounds of route patterns.
const (
	maxHostBytes     = 253
	maxPatternBytes  = 1024
	maxPatternSegs   = 64
	maxRoutes        = 10000
	maxMethodsPerRte = 32
)

// hostPattern matches the request's host.
type hostPattern struct {
	any    bool
	suffix bool   // "*.example.com": name is ".example.com"
	name   string // lower case
}

// pathKind is how a route matches the path.
type pathKind uint8

const (
	pathAny pathKind = iota
	pathGlob
	pathPrefix
)

type segKind uint8

const (
	segLit  segKind = iota
	segStar         // one non-empty segment
	segRest         // zero or more segments; last only
)

type segment struct {
	kind segKind
	lit  string
}

// pathPattern matches the request's path.
type pathPattern struct {
	kind   pathKind
	segs   []segment // pathGlob
	prefix []byte    // pathPrefix: without a trailing slash, except "/"
}

// parseHost compiles a host pattern.
func parseHost(p *problems, field, s string) hostPattern {
	if s == "" {
		return hostPattern{any: true}
	}
	h := hostPattern{name: strings.ToLower(s)}
	if strings.HasPrefix(h.name, "*.") {
		h.suffix, h.name = true, h.name[1:]
	}
	name := strings.TrimPrefix(h.name, ".")
	switch {
	case len(s) > maxHostBytes:
		p.add(ErrPattern, field, fmt.Sprintf("the host is longer than %d bytes", maxHostBytes), "shorten it")
	case strings.Contains(name, "*"):
		p.add(ErrPattern, field, fmt.Sprintf("host %q: a wildcard may only stand for the leading labels, as in *.example.com", s),
			"write an exact host, or *.suffix")
	case !validHostName(name):
		p.add(ErrPattern, field, fmt.Sprintf("host %q is not a host name (letters, digits, '-' and '.'; no port, no scheme)", s),
			"write a name such as api.example.com or *.example.com")
	}
	return h
}

func validHostName(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// match reports whether host (as the request carries it: any case, maybe
// a port, maybe a trailing dot) matches.
func (h *hostPattern) match(host []byte) bool {
	if h.any {
		return true
	}
	host = hostName(host)
	if h.suffix {
		return len(host) > len(h.name) && asciiEqualFold(host[len(host)-len(h.name):], h.name)
	}
	return asciiEqualFold(host, h.name)
}

// hostName strips the port and a trailing dot.
func hostName(host []byte) []byte {
	if len(host) > 0 && host[0] == '[' { // IPv6 literal
		if i := bytes.IndexByte(host, ']'); i > 0 {
			return host[:i+1]
		}
		return host
	}
	if i := bytes.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	return host
}

// covers reports whether every host h2 matches also matches h.
func (h *hostPattern) covers(h2 *hostPattern) bool {
	switch {
	case h.any:
		return true
	case h2.any:
		return false
	case !h.suffix:
		return !h2.suffix && h.name == h2.name
	}
	// h is "*.s" (name ".s"): h2 must lie below .s.
	return len(h2.name) > len(h.name) && strings.HasSuffix(h2.name, h.name) ||
		h2.suffix && h2.name == h.name
}

// regexLike are bytes that never appear in a path pattern: they suggest a
// regular expression or a template, which routes do not support.
const regexLike = "()[]{}^$|\\?+"

// parsePath compiles a path pattern.
func parsePath(p *problems, field, s string) pathPattern {
	if s == "" {
		return pathPattern{kind: pathAny}
	}
	pp := pathPattern{kind: pathGlob}
	if !checkPathText(p, field, s) {
		return pp
	}
	if s == "/**" {
		return pathPattern{kind: pathAny}
	}
	parts := strings.Split(s[1:], "/")
	if len(parts) > maxPatternSegs {
		p.add(ErrPattern, field, fmt.Sprintf("the pattern has more than %d segments", maxPatternSegs), "shorten it, or end it with /**")
		return pp
	}
	for i, seg := range parts {
		switch {
		case seg == "**":
			if i != len(parts)-1 {
				p.add(ErrPattern, field, fmt.Sprintf("path %q: ** may only be the last segment", s),
					"end the pattern at **, or use * for one segment")
				return pp
			}
			pp.segs = append(pp.segs, segment{kind: segRest})
		case seg == "*":
			pp.segs = append(pp.segs, segment{kind: segStar})
		case strings.Contains(seg, "*"):
			p.add(ErrPattern, field, fmt.Sprintf("path %q: segment %q mixes * with text; a segment is a literal, * or **", s, seg),
				"use * for the whole segment")
			return pp
		case seg == "" && i != len(parts)-1:
			p.add(ErrPattern, field, fmt.Sprintf("path %q has an empty segment (//)", s), "remove the extra slash")
			return pp
		default:
			pp.segs = append(pp.segs, segment{kind: segLit, lit: seg})
		}
	}
	return pp
}

// checkPathText checks what path and prefix patterns have in common.
func checkPathText(p *problems, field, s string) bool {
	switch {
	case len(s) > maxPatternBytes:
		p.add(ErrPattern, field, fmt.Sprintf("the pattern is longer than %d bytes", maxPatternBytes), "shorten it, or end it with /**")
	case s[0] != '/':
		p.add(ErrPattern, field, fmt.Sprintf("path %q must start with /", s), "write the path as the proxy sees it, e.g. /api/**")
	case strings.ContainsAny(s, regexLike):
		p.add(ErrPattern, field, fmt.Sprintf("path %q holds %q: patterns are not regular expressions or templates", s, s[strings.IndexAny(s, regexLike)]),
			"use literal segments, * for one segment and ** (last) for any rest")
	case strings.ContainsAny(s, "#% \t\x00") || hasControlString(s):
		p.add(ErrPattern, field, fmt.Sprintf("path %q holds a space, control character, '%%' or '#'", s),
			"write the decoded path, without query or fragment")
	default:
		return true
	}
	return false
}

func hasControlString(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// parsePrefix compiles a prefix pattern.
func parsePrefix(p *problems, field, s string) pathPattern {
	if !checkPathText(p, field, s) {
		return pathPattern{kind: pathPrefix, prefix: []byte("/")}
	}
	if strings.Contains(s, "*") {
		p.add(ErrPattern, field, fmt.Sprintf("prefix %q holds *", s), "use path: for patterns with * or **")
	}
	b := []byte(s)
	if len(b) > 1 {
		b = bytes.TrimRight(b, "/")
		if len(b) == 0 {
			b = []byte("/")
		}
	}
	if len(b) == 1 {
		return pathPattern{kind: pathAny}
	}
	return pathPattern{kind: pathPrefix, prefix: b}
}

// firstLiteral returns the first segment of a pattern whose paths all start
// with one literal segment (a literal with path parameters is not one: its
// requests are not keyed by it).
func (pp *pathPattern) firstLiteral() (string, bool) {
	if pp.kind != pathGlob || len(pp.segs) == 0 || pp.segs[0].kind != segLit || strings.Contains(pp.segs[0].lit, ";") {
		return "", false
	}
	return pp.segs[0].lit, true
}

// splitFirst splits a path in one scan: its first segment without path
// parameters (the key of the route lookup), and what follows the '/' that
// ends that segment (nil when none does: pathPattern.matchAfterFirst's
// rest).
func splitFirst(path []byte) (seg, rest []byte) {
	if len(path) == 0 || path[0] != '/' {
		return nil, nil
	}
	seg = path[1:]
	if len(seg) >= 8 { // the first segment is most often shorter than eight bytes: find its end in one word
		w := binary.LittleEndian.Uint64(seg)
		if ends := zeroLanes(w^'/'*lanes01) | zeroLanes(w^';'*lanes01); ends != 0 {
			i := bits.TrailingZeros64(ends) / 8
			if seg[i] == '/' {
				return seg[:i], seg[i+1:]
			}
			return seg[:i], afterSegment(seg[i+1:])
		}
	}
	for i, c := range seg { // segments are short: a loop is faster than IndexByte
		switch c {
		case '/':
			return seg[:i], seg[i+1:]
		case ';':
			return seg[:i], afterSegment(seg[i+1:])
		}
	}
	return seg, nil
}

// afterSegment returns what follows the first '/' in b, or nil when b
// has none.
func afterSegment(b []byte) []byte {
	for i, c := range b {
		if c == '/' {
			return b[i+1:]
		}
	}
	return nil
}

// match reports whether the (normalized) path matches.
func (pp *pathPattern) match(path []byte) bool {
	switch pp.kind {
	case pathAny:
		return true
	case pathPrefix:
		return pathUnder(path, pp.prefix)
	}
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	return pp.matchSegs(path[1:], 0)
}

// matchAfterFirst is match for a path whose first segment is known to
// match the pattern's first (literal) segment: rest is what follows that
// segment's '/', or nil when the path has no more segments.
func (pp *pathPattern) matchAfterFirst(rest []byte) bool {
	return pp.matchSegs(rest, 1)
}

// matchSegs matches the segments of a path from rest (after a '/'; nil: no
// more segments) against the pattern's segments from the k-th.
func (pp *pathPattern) matchSegs(rest []byte, k int) bool {
	for i := k; i < len(pp.segs); i++ {
		sg := &pp.segs[i]
		if sg.kind == segRest {
			return true
		}
		if rest == nil {
			return false // the path has fewer segments
		}
		seg := rest // segments are short: a loop is faster than IndexByte
		rest = nil
		for j, c := range seg {
			if c == '/' {
				seg, rest = seg[:j], seg[j+1:]
				break
			}
		}
		switch sg.kind {
		case segStar:
			if len(seg) == 0 {
				return false
			}
		case segLit:
			if string(seg) != sg.lit && !(len(seg) > len(sg.lit) && seg[len(sg.lit)] == ';' && string(seg[:len(sg.lit)]) == sg.lit) {
				return false
			}
		}
	}
	return rest == nil
}

// pathUnder reports whether path is prefix or lies below it. The prefix
// must end at a word boundary: "/admin" covers "/admin", "/admin/x" and
// also "/admin;jsessionid=1" and "/admin.json" (which some frameworks route
// to /admin), but not "/administrator" or "/admin-ui".
func pathUnder(path, prefix []byte) bool {
	if len(prefix) == 1 && prefix[0] == '/' {
		return true
	}
	if !bytes.HasPrefix(path, prefix) {
		return false
	}
	if len(path) == len(prefix) {
		return true
	}
	c := path[len(prefix)]
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
}

// covers reports whether every path q matches also matches pp. It may answer
// false for some patterns that do cover q (it is used to refuse unreachable
// routes, where a missed case costs a warning, never a valid configuration).
func (pp *pathPattern) covers(q *pathPattern) bool {
	switch {
	case pp.kind == pathAny:
		return true
	case q.kind == pathAny:
		return false
	case pp.kind == pathPrefix && q.kind == pathPrefix:
		return pathUnder(q.prefix, pp.prefix)
	case pp.kind == pathPrefix:
		// Every path q matches starts with its literal segments.
		var lit []byte
		for _, sg := range q.segs {
			if sg.kind != segLit {
				break
			}
			lit = append(append(lit, '/'), sg.lit...)
		}
		return len(lit) > 0 && pathUnder(lit, pp.prefix) && len(lit) >= len(pp.prefix)
	case q.kind == pathPrefix:
		return false
	}
	for i := range pp.segs {
		a := &pp.segs[i]
		if a.kind == segRest {
			return true
		}
		if i >= len(q.segs) {
			return false
		}
		b := &q.segs[i]
		switch {
		case b.kind == segRest:
			return false
		case a.kind == segStar:
			if b.kind == segLit && b.lit == "" {
				return false
			}
		case b.kind != segLit || a.lit != b.lit:
			return false
		}
	}
	return len(q.segs) == len(pp.segs)
}

// asciiEqualFold compares b with the lower-case ASCII string lower, ignoring
// ASCII case in b.
func asciiEqualFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
