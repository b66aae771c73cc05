package server

import (
	"net/http"
	"net/textproto"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
)

// headerNames are the request headers a front end reads on the request
// path, numbered: fastHeaders finds them all in one pass over the request's
// headers instead of one normalizing lookup each.
type headerNames struct {
	names    []string // canonical, by id
	byLength [64][]uint8
	long     map[string]uint8 // names too long for byLength
}

// Ids of the headers every server reads; configured names follow.
const (
	hAuthorization uint8 = iota
	hCookie
	hOrigin
	hACRM
	hForwardedURI
	hOriginalURI
	hForwardedMethod
	hOriginalMethod
	hForwardedHost
	hBuiltin
)

// newHeaderNames numbers the built-in headers and extra (configured) ones.
func newHeaderNames(extra ...string) *headerNames {
	hn := &headerNames{}
	for _, n := range []string{"Authorization", "Cookie", "Origin", "Access-Control-Request-Method",
		"X-Forwarded-Uri", "X-Original-Uri", "X-Forwarded-Method", "X-Original-Method", "X-Forwarded-Host"} {
		hn.id(n)
	}
	for _, n := range extra {
		if n != "" {
			hn.id(n)
		}
	}
	return hn
}

// id returns the id of a header name, adding it (before the names are used
// for requests: they are read without a lock).
func (hn *headerNames) id(name string) uint8 {
	name = textproto.CanonicalMIMEHeaderKey(name)
	for i, n := range hn.names {
		if n == name {
			return uint8(i)
		}
	}
	hn.names = append(hn.names, name)
	id := uint8(len(hn.names) - 1)
	if len(name) < len(hn.byLength) {
		hn.byLength[len(name)] = append(hn.byLength[len(name)], id)
	} else {
		if hn.long == nil {
			hn.long = map[string]uint8{}
		}
		hn.long[name] = id
	}
	return id
}

// lookup returns the id of a canonical header name, or false.
func (hn *headerNames) lookup(name []byte) (uint8, bool) {
	if len(name) >= len(hn.byLength) {
		id, ok := hn.long[string(name)]
		return id, ok
	}
	for _, id := range hn.byLength[len(name)] {
		if string(name) == hn.names[id] {
			return id, true
		}
	}
	return 0, false
}

// fastHeaders reads a fasthttp request's headers for the decision package
// and the forward-auth front end: one pass over the headers (fasthttp
// keeps their names canonical) records those named in names.
type fastHeaders struct {
	names   *headerNames
	h       *fasthttp.RequestHeader
	entries []headerEntry
	cookie  []byte // the Cookie header, copied out of fasthttp's scratch
}

type headerEntry struct {
	id    uint8
	value []byte
}

var _ authz.HeaderSource = (*fastHeaders)(nil)

// reset indexes the headers of h.
func (s *fastHeaders) reset(names *headerNames, h *fasthttp.RequestHeader) {
	s.names, s.h, s.entries = names, h, s.entries[:0]
	for k, v := range h.All() {
		id, ok := names.lookup(k)
		if !ok {
			continue
		}
		if id == hCookie { // All writes the cookies into a buffer of its own: keep a copy
			s.cookie = append(s.cookie[:0], v...)
			v = s.cookie
		}
		s.entries = append(s.entries, headerEntry{id, v})
	}
}

// first returns the first value of header id, or nil when it is absent.
func (s *fastHeaders) first(id uint8) []byte {
	for i := range s.entries {
		if s.entries[i].id == id {
			return s.entries[i].value
		}
	}
	return nil
}

// firstTwo returns the first values of headers a and b (nil: absent) in
// one scan of the entries.
func (s *fastHeaders) firstTwo(a, b uint8) (va, vb []byte) {
	seenA, seenB := false, false
	for i := range s.entries {
		e := &s.entries[i]
		switch {
		case e.id == a && !seenA:
			va, seenA = e.value, true
		case e.id == b && !seenB:
			vb, seenB = e.value, true
		}
	}
	return va, vb
}

// AppendValues appends the values of the header name.
func (s *fastHeaders) AppendValues(dst [][]byte, name string) [][]byte {
	id, ok := s.names.lookup(bytesOf(name))
	if !ok {
		return append(dst, s.h.PeekAll(name)...)
	}
	for i := range s.entries {
		if s.entries[i].id == id {
			dst = append(dst, s.entries[i].value)
		}
	}
	return dst
}

// httpHeaders reads a net/http request's headers for the decision package
// (names come canonical, as net/http keeps them).
type httpHeaders http.Header

var _ authz.HeaderSource = httpHeaders(nil)

// AppendValues appends the values of the header name, without copying them.
func (h httpHeaders) AppendValues(dst [][]byte, name string) [][]byte {
	for _, v := range h[name] {
		dst = append(dst, bytesOf(v))
	}
	return dst
}

// bytesOf views s as bytes, without copying; they must not be modified.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
