package engine

import "bytes"

var jwtCty = []byte("JWT")

// Header is the protected header of a verified token. Its byte slices point
// into the Token's scratch memory and are valid until the Token is reused.
type Header struct {
	Alg Alg
	Kid []byte // nil when the header has no kid
	// HasKid reports a non-empty kid. An empty kid names no key — KeyLookup
	// treats it as absent — so it does not satisfy Config.RequireKid.
	HasKid bool
	Typ    []byte // nil when absent
	Cty    []byte // nil when absent
	raw    []byte
}

// Raw returns the decoded header JSON.
func (h *Header) Raw() []byte { return h.raw }

// headerParser carries what parsing one header needs besides the Token.
type headerParser struct {
	crit [][]byte // extension names the caller understands
}

// parseHeader scans the decoded header JSON into t.Header. It reads alg, kid,
// typ, cty, crit and b64 (case-sensitively), rejects duplicate members and
// anything that is not exactly one JSON object, and never looks at jwk, jku,
// x5u, x5c or x5t: key material named by the token is never used.
func (p *headerParser) parse(t *Token, data []byte) error {
	h := &t.Header
	h.raw = data
	var s objectScanner
	if !s.open(data) {
		return errHeaderJSON
	}
	t.names.reset(maxMembers(len(data)))
	var m member
	var crit []byte
	hasCrit, hasAlg := false, false
	for s.next(&m) {
		name := t.unescape(m.name, m.nameEsc)
		if !t.names.add(name) {
			return errHeaderDup
		}
		switch string(name) {
		case "alg":
			if m.kind != kindString {
				return errAlgType
			}
			hasAlg = true
			alg, ok := parseAlgBytes(t.unescape(m.raw, m.esc))
			if !ok {
				if bytes.EqualFold(t.unescape(m.raw, m.esc), []byte("none")) {
					return errAlgNoneHeader
				}
				return ErrUnsupportedAlg
			}
			h.Alg = alg
		case "kid":
			if m.kind != kindString {
				return errKidType
			}
			h.Kid = t.unescape(m.raw, m.esc)
			h.HasKid = len(h.Kid) > 0
		case "typ":
			if m.kind != kindString {
				return errTypType
			}
			h.Typ = t.unescape(m.raw, m.esc)
		case "cty":
			if m.kind != kindString {
				return errCtyType
			}
			h.Cty = t.unescape(m.raw, m.esc)
		case "b64":
			if m.kind != kindBool {
				return errB64Type
			}
			if m.raw[0] == 'f' {
				return errB64False
			}
		case "crit":
			if m.kind != kindArray {
				return errCritType
			}
			hasCrit, crit = true, m.raw
		}
	}
	if !s.done() {
		return errHeaderJSON
	}
	if !hasAlg {
		return errNoAlg
	}
	if hasCrit {
		if err := p.checkCrit(t, crit); err != nil {
			return err
		}
	}
	// RFC 7515 §4.1.10: a cty without '/' means "application/" + cty, so
	// "JWT" and "application/jwt" both name a nested JWT.
	if len(h.Cty) > 0 && bytes.EqualFold(trimApplication(h.Cty), jwtCty) {
		return errNested
	}
	return nil
}

// checkCrit enforces RFC 7515 §4.1.11: crit is a non-empty array of distinct
// strings, each naming a member present in the header that the caller
// understands. jwtgate itself understands no extension, so by default any
// crit fails — including "b64" (RFC 7797), whose payloads are out of scope.
func (p *headerParser) checkCrit(t *Token, raw []byte) error {
	var listed uint64 // bit i: p.crit[i] already listed
	n := 0
	for i := skipWS(raw, 1); i < len(raw) && raw[i] != ']'; n++ {
		if raw[i] != '"' {
			return errCritType
		}
		end, esc, _ := scanString(raw, i)
		name := t.unescape(raw[i+1:end-1], esc)
		k := indexName(p.crit, name)
		if k < 0 {
			return ErrUnknownCrit
		}
		if listed&(1<<k) != 0 {
			return errCritDup
		}
		listed |= 1 << k
		if indexName(t.names.names, name) < 0 {
			return errCritAbsent
		}
		if i = skipWS(raw, end); raw[i] == ',' {
			i = skipWS(raw, i+1)
		}
	}
	if n == 0 {
		return errCritType
	}
	return nil
}

// indexName returns the index of name in list, or -1.
func indexName(list [][]byte, name []byte) int {
	for i, n := range list {
		if bytes.Equal(n, name) {
			return i
		}
	}
	return -1
}
