package fuzz

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// refVerifier is a straightforward JWS/JWT verifier built only on the
// standard library (encoding/base64, encoding/json, crypto/*), written to
// check jwtgate against. It splits with strings, decodes with
// encoding/base64 and encoding/json, and verifies with the crypto packages.
//
// Where jwtgate is deliberately stricter than those packages, the
// strictness is written here, so that both must agree exactly rather than
// one being skipped:
//
//   - base64url: encoding/base64's Strict mode still skips '\r' and '\n'
//     anywhere; jwtgate rejects them (RFC 7515 §2: no line breaks).
//   - JSON: encoding/json keeps the last of duplicate member names and
//     replaces invalid UTF-8 with U+FFFD; jwtgate rejects both (RFC 8725
//     §3.2, RFC 7515 §5.2 step 4). encoding/json accepts 10,000 levels of
//     nesting; jwtgate at most refMaxDepth (the top-level object counts 1).
//   - Names and strings compare after unescaping, as encoding/json does
//     (including U+FFFD for a lone UTF-16 surrogate).
//   - crit: jwtgate understands no extension by default, so any "crit"
//     rejects the token; "b64" must be a boolean and false is unsupported;
//     "cty" naming a nested JWT ("JWT", "application/jwt", any case) is
//     unsupported.
//   - NumericDates are JSON numbers, fractions floored, clamped to int64.
//   - A token without kid (or with an empty one) is verified by the issuer's
//     one key of its algorithm.
type refVerifier struct {
	keys      []refKey
	issuers   []string
	audiences []string
	now       int64
	leeway    int64
	maxSize   int
}

// refMaxDepth mirrors the engine's nesting limit (engine/json.go).
const refMaxDepth = 32

// refKey is a verification key bound to one algorithm.
type refKey struct {
	kid string
	alg string
	pub any // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte
}

// refResult is the reference's verdict, and how far it got.
type refResult struct {
	err       error
	sigDone   bool // the signature was checked with the right key
	sigOK     bool
	header    refHeader
	claims    refClaims
	claimsErr error // the payload as claims (nil if valid claims)
	payload   []byte
}

type refHeader struct {
	alg    string
	kid    string
	hasKid bool
	typ    *string
	cty    *string
}

type refClaims struct {
	iss, sub, jti *string
	aud           []string
	hasAud        bool
	exp, nbf, iat *int64
	scope         *string
	members       map[string]json.RawMessage
}

var (
	errRefSize      = errors.New("ref: too large")
	errRefSegments  = errors.New("ref: not three segments")
	errRefB64       = errors.New("ref: bad base64url")
	errRefJSON      = errors.New("ref: not one JSON object")
	errRefDup       = errors.New("ref: duplicate member")
	errRefHeader    = errors.New("ref: bad header")
	errRefAlg       = errors.New("ref: unsupported alg")
	errRefKey       = errors.New("ref: no key")
	errRefMismatch  = errors.New("ref: alg does not match the key")
	errRefSignature = errors.New("ref: bad signature")
	errRefClaimType = errors.New("ref: claim of the wrong type")
	errRefPolicy    = errors.New("ref: policy")
)

var refAlgs = map[string]struct {
	hash crypto.Hash
	size int // ECDSA coordinate size
}{
	"RS256": {crypto.SHA256, 0}, "RS384": {crypto.SHA384, 0}, "RS512": {crypto.SHA512, 0},
	"PS256": {crypto.SHA256, 0}, "PS384": {crypto.SHA384, 0}, "PS512": {crypto.SHA512, 0},
	"ES256": {crypto.SHA256, 32}, "ES384": {crypto.SHA384, 48}, "ES512": {crypto.SHA512, 66},
	"EdDSA": {0, 0},
	"HS256": {crypto.SHA256, 0}, "HS384": {crypto.SHA384, 0}, "HS512": {crypto.SHA512, 0},
}

// refB64 decodes strict unpadded base64url, without the line-break leniency.
func refB64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// refObject decodes data as exactly one JSON object with unique top-level
// member names, valid UTF-8 and bounded nesting.
func refObject(data []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(data) || !json.Valid(data) {
		return nil, errRefJSON
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errRefJSON
	}
	seen := map[string]bool{}
	dup := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errRefJSON
		}
		name := tok.(string)
		if seen[name] {
			dup = true
		}
		seen[name] = true
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil, errRefJSON
			}
			if d, ok := tok.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
					if 1+depth > refMaxDepth {
						return nil, errRefJSON
					}
				} else {
					depth--
				}
			}
			if depth == 0 {
				break
			}
		}
	}
	if dup {
		return nil, errRefDup
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, errRefJSON
	}
	return m, nil
}

func refStringValue(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// refStrings reads a string or an array of strings.
func refStrings(raw json.RawMessage) ([]string, bool) {
	if s, ok := refStringValue(raw); ok {
		return []string{s}, true
	}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	out := []string{}
	for _, it := range items {
		s, ok := refStringValue(it)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// refDate reads a NumericDate: a JSON number, floored, clamped to int64.
func refDate(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	s := string(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, _ := strconv.ParseFloat(s, 64) // ±Inf or 0 on range errors: right here
	f = math.Floor(f)
	switch {
	case f >= math.MaxInt64:
		return math.MaxInt64, true
	case f <= math.MinInt64:
		return math.MinInt64, true
	}
	return int64(f), true
}

// parseHeader applies the header rules to decoded header JSON.
func refParseHeader(data []byte) (refHeader, error) {
	var h refHeader
	m, err := refObject(data)
	if err != nil {
		return h, err
	}
	algRaw, ok := m["alg"]
	if !ok {
		return h, errRefHeader
	}
	alg, ok := refStringValue(algRaw)
	if !ok {
		return h, errRefHeader
	}
	if raw, ok := m["kid"]; ok {
		if h.kid, ok = refStringValue(raw); !ok {
			return h, errRefHeader
		}
		h.hasKid = h.kid != "" // an empty kid names no key
	}
	for name, dst := range map[string]**string{"typ": &h.typ, "cty": &h.cty} {
		if raw, ok := m[name]; ok {
			s, ok := refStringValue(raw)
			if !ok {
				return h, errRefHeader
			}
			*dst = &s
		}
	}
	if raw, ok := m["b64"]; ok {
		switch string(raw) {
		case "true":
		default: // false is unsupported, anything else is the wrong type
			return h, errRefHeader
		}
	}
	if _, ok := m["crit"]; ok {
		return h, errRefHeader // no extension is understood
	}
	if _, ok := refAlgs[alg]; !ok {
		return h, errRefAlg
	}
	if h.cty != nil {
		c := strings.ToLower(*h.cty)
		if c == "jwt" || c == "application/jwt" {
			return h, errRefHeader
		}
	}
	h.alg = alg
	return h, nil
}

// refParseClaims applies the claim type rules to a decoded payload.
func refParseClaims(data []byte) (refClaims, error) {
	var c refClaims
	m, err := refObject(data)
	if err != nil {
		return c, err
	}
	c.members = m
	str := func(name string, dst **string) bool {
		raw, ok := m[name]
		if !ok {
			return true
		}
		s, ok := refStringValue(raw)
		*dst = &s
		return ok
	}
	date := func(name string, dst **int64) bool {
		raw, ok := m[name]
		if !ok {
			return true
		}
		d, ok := refDate(raw)
		*dst = &d
		return ok
	}
	ok := str("iss", &c.iss) && str("sub", &c.sub) && str("jti", &c.jti) &&
		date("exp", &c.exp) && date("nbf", &c.nbf) && date("iat", &c.iat)
	if raw, present := m["aud"]; present {
		var aok bool
		c.aud, aok = refStrings(raw)
		c.hasAud = true
		ok = ok && aok
	}
	if raw, present := m["scope"]; present {
		s, sok := refStringValue(raw)
		c.scope, ok = &s, ok && sok
	}
	if raw, present := m["scp"]; present {
		list, sok := refStrings(raw)
		ok = ok && sok
		if sok && c.scope == nil {
			s := strings.Join(list, " ")
			c.scope = &s
		}
	}
	if !ok {
		return c, errRefClaimType
	}
	return c, nil
}

// lookup finds the key: by kid, or the one key of the algorithm.
func (r *refVerifier) lookup(h refHeader) (refKey, bool) {
	if h.kid != "" {
		for _, k := range r.keys {
			if k.kid == h.kid {
				return k, true
			}
		}
		return refKey{}, false
	}
	var found []refKey
	for _, k := range r.keys {
		if k.alg == h.alg {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return refKey{}, false
	}
	return found[0], true
}

// verify checks token; withClaims false checks only the signature (the
// payload may be any bytes).
func (r *refVerifier) verify(token string, withClaims bool) refResult {
	var res refResult
	if len(token) == 0 {
		res.err = errRefSegments
		return res
	}
	if len(token) > r.maxSize {
		res.err = errRefSize
		return res
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		res.err = errRefSegments
		return res
	}
	hdrJSON, ok := refB64(parts[0])
	if !ok {
		res.err = errRefB64
		return res
	}
	if res.header, res.err = refParseHeader(hdrJSON); res.err != nil {
		return res
	}
	if res.payload, ok = refB64(parts[1]); !ok {
		res.err = errRefB64
		return res
	}
	sig, ok := refB64(parts[2])
	if !ok {
		res.err = errRefB64
		return res
	}
	res.claims, res.claimsErr = refParseClaims(res.payload)
	key, ok := r.lookup(res.header)
	if !ok {
		res.err = errRefKey
		return res
	}
	if key.alg != res.header.alg {
		res.err = errRefMismatch
		return res
	}
	res.sigDone = true
	res.sigOK = refVerifySig(key, []byte(parts[0]+"."+parts[1]), sig)
	if !res.sigOK {
		res.err = errRefSignature
		return res
	}
	if !withClaims {
		return res
	}
	if res.claimsErr != nil {
		res.err = res.claimsErr
		return res
	}
	res.err = r.policy(&res.claims)
	return res
}

func (r *refVerifier) policy(c *refClaims) error {
	if c.exp == nil || r.now-r.leeway >= *c.exp {
		return errRefPolicy
	}
	if c.nbf != nil && r.now+r.leeway < *c.nbf {
		return errRefPolicy
	}
	if c.iat != nil && *c.iat > r.now+r.leeway {
		return errRefPolicy
	}
	if c.iss == nil || !refContains(r.issuers, *c.iss) {
		return errRefPolicy
	}
	for _, a := range c.aud {
		if refContains(r.audiences, a) {
			return nil
		}
	}
	return errRefPolicy
}

func refContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func refVerifySig(k refKey, input, sig []byte) bool {
	info := refAlgs[k.alg]
	var digest []byte
	if info.hash != 0 {
		h := refNewHash(info.hash)
		h.Write(input)
		digest = h.Sum(nil)
	}
	switch pub := k.pub.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(k.alg, "PS") {
			return rsa.VerifyPSS(pub, info.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}) == nil
		}
		return rsa.VerifyPKCS1v15(pub, info.hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		if len(sig) != 2*info.size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:info.size])
		s := new(big.Int).SetBytes(sig[info.size:])
		return ecdsa.Verify(pub, digest, r, s)
	case ed25519.PublicKey:
		return ed25519.Verify(pub, input, sig)
	case []byte:
		m := hmac.New(func() hash.Hash { return refNewHash(info.hash) }, pub)
		m.Write(input)
		return hmac.Equal(m.Sum(nil), sig)
	}
	return false
}

func refNewHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	}
	return sha256.New()
}
