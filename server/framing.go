package server

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// Message framing (RFC 9112 §6). A proxy in front of jwtgate and jwtgate
// must agree on where a request ends: if the proxy frames a request by
// Content-Length and jwtgate by Transfer-Encoding (or the other way round),
// bytes the proxy sent as a body are a second request to jwtgate, whose
// answer the proxy hands to the next client on that upstream connection —
// a token-less request could receive another one's 200 and X-Auth-Subject.
//
// fasthttp v1.74.0 already refuses duplicate Content-Length, two
// Transfer-Encoding fields, a coding other than chunked or identity, and
// Transfer-Encoding in HTTP/1.0. It accepts both Content-Length and
// Transfer-Encoding (and frames by the latter), matches "chunked" case
// insensitively, skips spaces and tabs around values and joins obs-folded
// lines into the previous field. framingOK therefore checks the raw header
// block (RequestHeader.RawHeaders, the bytes as received) and accepts only
// what every conforming proxy frames the same way.

const (
	nameTransferEncoding = "transfer-encoding:"
	nameContentLength    = "content-length:"
)

var codingChunked = []byte("chunked")

// framingOK reports whether a raw header block (the lines after the request
// line, each ending in CRLF or LF) frames its message unambiguously:
//   - no obs-fold (a line starting with a space or a tab);
//   - at most one Transfer-Encoding field, whose value is exactly "chunked"
//     (after spaces, never tabs; no other coding, no list, no other case);
//   - at most one Content-Length field, of digits only (no sign, no list);
//   - not both.
//
// It allocates nothing.
func framingOK(raw []byte) bool {
	te, cl := 0, 0
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			continue // the blank line that ends the block
		}
		if line[0] == ' ' || line[0] == '\t' {
			return false // obs-fold: RFC 9112 §5.2 allows refusing it
		}
		// Only two names matter; fasthttp refuses a space before the colon.
		switch line[0] | 0x20 {
		case 't':
			if !hasPrefixFold(line, nameTransferEncoding) {
				continue
			}
			te++
			if !bytes.Equal(trimLeadingSpaces(line[len(nameTransferEncoding):]), codingChunked) {
				return false
			}
		case 'c':
			if !hasPrefixFold(line, nameContentLength) {
				continue
			}
			cl++
			if !allDigits(trimLeadingSpaces(line[len(nameContentLength):])) {
				return false
			}
		}
	}
	return te <= 1 && cl <= 1 && te+cl <= 1
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// headerReceived is the fasthttp.Server.HeaderReceived hook. fasthttp runs
// the handler only after it has answered "Expect: 100-continue" and read the
// body by its own framing — for a request with ambiguous framing, a body it
// may wait for until the read timeout. For such a request the hook drops the
// body framing and the expectation from the parsed header, so that fasthttp
// answers nothing and reads no body before serve, which still sees the raw
// header block, refuses it and closes the connection.
//
// It also marks such a header with hdrFramingMark, for serveHooked: the
// raw block is scanned once per request, here.
func (h *handler) headerReceived(hdr *fasthttp.RequestHeader) fasthttp.RequestConfig {
	if !framingOK(hdr.RawHeaders()) {
		hdr.SetContentLength(0)
		hdr.Del(fasthttp.HeaderExpect)
		hdr.SetCanonical(hdrFramingMark, framingMarkValue)
	}
	return fasthttp.RequestConfig{} // the server's own limits
}

// hdrFramingMark names the header headerReceived adds to a request whose
// framing is ambiguous. '@' is not a token character (RFC 9110 §5.6.2):
// fasthttp refuses a header name holding it from the wire, so a client can
// never send the mark (and one that could would only have its own request
// refused). It is in canonical form, as PeekBytes looks it up.
var (
	hdrFramingMark   = []byte("Jwtgate@ambiguous-Framing")
	framingMarkValue = []byte("1")
)

// HeaderReceived returns the function to set as HeaderReceived on a
// fasthttp.Server that serves Handler: with it, a request whose framing is
// ambiguous is refused before fasthttp answers "100 Continue" or reads its
// body.
func (s *Server) HeaderReceived() func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	return s.gen.Load().h.headerReceived // the same for every generation
}

// hasPrefixFold reports whether b begins with the lower-case ASCII prefix,
// ignoring the case of b.
func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && asciiEqualFold(b[:len(prefix)], prefix)
}

// trimLeadingSpaces drops the spaces (never tabs) that begin b.
func trimLeadingSpaces(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// asciiEqualFold compares b with the lower-case ASCII string lower, ignoring
// ASCII case.
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
