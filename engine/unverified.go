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
	dot1, dot2, err := splitToken(token)
	if err != nil {
		return err
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
	payload, plain, ok := t.decodePlain(token[dot1+1 : dot2])
	if !ok {
		return errPayloadB64
	}
	t.payload = payload
	return parseClaims(t, payload, plain)
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
	return parseClaims(t, payload, plainASCII(payload))
}

// splitToken locates the two dots of a compact JWS: exactly three segments.
// It scans the token once, with the vectorized IndexByte, and never splits
// it into new slices.
func splitToken(token []byte) (dot1, dot2 int, err error) {
	dot1 = bytes.IndexByte(token, '.')
	if dot1 < 0 {
		return 0, 0, errSegments
	}
	dot2 = bytes.IndexByte(token[dot1+1:], '.')
	if dot2 < 0 {
		return 0, 0, errSegments
	}
	dot2 += dot1 + 1
	if bytes.IndexByte(token[dot2+1:], '.') >= 0 {
		return 0, 0, errSegments
	}
	return dot1, dot2, nil
}
