package engine

import "bytes"

// ParseUnverified decodes token into t — header and claims — without
// checking the signature or any policy. Nothing it returns can be trusted:
// it exists for debugging tools and tests. Structural errors are the same as
// Verify's.
func ParseUnverified(token []byte, t *Token) error {
	t.reset(token)
	if len(token) == 0 {
		return errEmpty
	}
	dot1 := bytes.IndexByte(token, '.')
	dot2 := -1
	if dot1 >= 0 {
		if i := bytes.IndexByte(token[dot1+1:], '.'); i >= 0 {
			dot2 = dot1 + 1 + i
		}
	}
	if dot2 < 0 || bytes.IndexByte(token[dot2+1:], '.') >= 0 {
		return errSegments
	}
	t.grow(len(token))
	hdr, ok := t.decode(token[:dot1])
	if !ok {
		return errHeaderB64
	}
	var p headerParser
	if err := p.parse(t, hdr); err != nil {
		return err
	}
	if t.payload, ok = t.decode(token[dot1+1 : dot2]); !ok {
		return errPayloadB64
	}
	return parseClaims(t, t.payload)
}

// ScanHeader parses a decoded JOSE header (JSON) into t.Header with the
// verifier's rules: one object, no duplicate members, typed alg, kid, typ,
// cty, crit and b64. It exists for fuzzing and tests.
func ScanHeader(header []byte, t *Token) error {
	t.reset(nil)
	t.grow(2 * len(header))
	var p headerParser
	return p.parse(t, header)
}

// ScanClaims parses a decoded payload (JSON) into t.Claims with the
// verifier's rules: one object, no duplicate members, registered claims of
// the right JSON types. It exists for fuzzing and tests.
func ScanClaims(payload []byte, t *Token) error {
	t.reset(nil)
	t.grow(2 * len(payload))
	t.payload = payload
	return parseClaims(t, payload)
}
