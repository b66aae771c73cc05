package server

import (
	"encoding/binary"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server/config"
)

// identity computes the headers of a 200 answer from a verified token.
//
// The computed values are kept as one block — per header, a 4-byte length
// and the value — that the server attaches to the token's cache entry
// (engine Verifier.Attach), so a cached request copies the block into the
// response without looking at a claim again.
//
// Values are never altered: a claim that holds a control character or does
// not fit in MaxValueBytes makes the request fail (401) rather than forward
// a truncated or rewritten identity that could name someone else.
type identity struct {
	headers    []identityHeader
	payload    []byte // header carrying the verified payload; nil when off
	maxValue   int
	maxPayload int
	payloadBig *denial
}

type identityHeader struct {
	name    []byte // canonical header name
	claim   string
	kind    claimKind
	sep     string
	tooLong *denial
	control *denial
}

// claimKind selects how a claim is read: registered claims come from the
// engine's parsed Claims, others from the payload.
type claimKind uint8

const (
	claimOther claimKind = iota
	claimSub
	claimIss
	claimScope
	claimAud
	claimJti
)

func newIdentity(cfg *config.Identity) *identity {
	id := &identity{maxValue: cfg.MaxValueBytes, maxPayload: cfg.MaxPayloadBytes}
	for _, h := range cfg.Headers {
		ih := identityHeader{name: []byte(h.Header), claim: h.Claim, sep: h.Separator}
		if ih.sep == "" {
			ih.sep = ","
		}
		switch h.Claim {
		case "sub":
			ih.kind = claimSub
		case "iss":
			ih.kind = claimIss
		case "scope", "scp":
			ih.kind = claimScope
		case "aud":
			ih.kind = claimAud
		case "jti":
			ih.kind = claimJti
		}
		ih.tooLong = newDenial(401, codeInvalidToken, "identity_unforwardable",
			fmt.Sprintf("claim %q is longer than %d bytes and cannot be forwarded in %s", h.Claim, cfg.MaxValueBytes, h.Header))
		ih.control = newDenial(401, codeInvalidToken, "identity_unforwardable",
			fmt.Sprintf("claim %q holds control characters and cannot be forwarded in %s", h.Claim, h.Header))
		id.headers = append(id.headers, ih)
	}
	if cfg.PayloadHeader != "" {
		id.payload = []byte(cfg.PayloadHeader)
		id.payloadBig = newDenial(401, codeInvalidToken, "identity_unforwardable",
			fmt.Sprintf("the token payload is longer than %d bytes and cannot be forwarded in %s", cfg.MaxPayloadBytes, cfg.PayloadHeader))
	}
	return id
}

// empty reports whether there are no identity headers at all.
func (id *identity) empty() bool { return len(id.headers) == 0 && id.payload == nil }

// build appends the identity block of the verified token t (raw token bytes
// tok) to dst.
func (id *identity) build(dst []byte, t *engine.Token, tok []byte) ([]byte, *denial) {
	c := &t.Claims
	for i := range id.headers {
		h := &id.headers[i]
		mark := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		start := len(dst)
		switch h.kind {
		case claimSub:
			dst = append(dst, c.Subject...)
		case claimIss:
			dst = append(dst, c.Issuer...)
		case claimScope:
			dst = append(dst, c.Scope...)
		case claimJti:
			dst = append(dst, c.ID...)
		case claimAud:
			for j, a := range c.Audience {
				if j > 0 {
					dst = append(dst, h.sep...)
				}
				dst = append(dst, a...)
			}
		default:
			if raw, ok := c.Lookup(h.claim); ok {
				var good bool
				if dst, good = engine.AppendClaimText(dst, raw, h.sep); !good {
					return dst, h.control
				}
			}
		}
		v := dst[start:]
		if len(v) > id.maxValue {
			return dst, h.tooLong
		}
		if hasControl(v) {
			return dst, h.control
		}
		binary.BigEndian.PutUint32(dst[mark:], uint32(len(v)))
	}
	if id.payload != nil {
		p := t.PayloadSegment()
		if len(p) > id.maxPayload {
			return dst, id.payloadBig
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
		dst = append(dst, p...)
	}
	return dst, nil
}

// write sets the headers of block (made by build) on the response. Every
// configured header is set, empty when its claim is absent, so that a proxy
// copying it replaces any value the client sent.
func (id *identity) write(h *fasthttp.ResponseHeader, block []byte) {
	for i := range id.headers {
		var v []byte
		v, block = nextValue(block)
		h.SetCanonical(id.headers[i].name, v)
	}
	if id.payload != nil {
		v, _ := nextValue(block)
		h.SetCanonical(id.payload, v)
	}
}

func nextValue(block []byte) (v, rest []byte) {
	if len(block) < 4 {
		return nil, nil
	}
	n := int(binary.BigEndian.Uint32(block))
	block = block[4:]
	if n > len(block) {
		return nil, nil
	}
	return block[:n], block[n:]
}

// hasControl reports whether v holds a byte that must never reach a header:
// ASCII control characters (CR, LF, NUL, ...) and DEL.
func hasControl(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}
