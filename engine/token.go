package engine

// Token holds the result of one verification and the scratch memory it was
// decoded into. Reuse one Token per goroutine (or take them from a
// sync.Pool): after its first use at a given token size, verifying into it
// allocates nothing. The zero value is ready to use. A Token must not be
// used by two goroutines at once, and what it holds is valid until it is
// passed to Verify again.
type Token struct {
	// Header is the protected header.
	Header Header
	// Claims are the registered claims. After a failed Verify they are
	// empty, as is everything else the Token returns.
	Claims Claims

	key     *Key
	pol     *policy     // the issuer policy that judged the token, if any
	entry   *cacheEntry // cache entry holding this token, if any
	hit     bool        // answered from the cache
	sharedH *Header     // the header cache's Header that Header copies, if any
	raw     []byte      // the token as given to Verify
	payload []byte      // decoded payload
	buf     []byte      // scratch: decoded segments and unescaped strings
	names   nameSet
	auds    [][]byte // backing array of Claims.Audience owned by this Token
	keyBuf  [scratchSize]byte
}

// Key returns the key that verified the token (nil if verification failed).
func (t *Token) Key() *Key { return t.key }

// PolicyIndex returns the index, in Verifier.Policies, of the issuer policy
// that judged the last token: the one its "iss" chose. It is set after a
// failure too, once a policy was chosen (a refusal for a missing scope is
// that policy's), and is -1 when none was (an unknown issuer, a malformed
// token, VerifySignature).
func (t *Token) PolicyIndex() int {
	if t.pol == nil {
		return -1
	}
	return t.pol.index
}

// PolicyIssuer returns the configured Issuer of the policy that judged the
// last token (see PolicyIndex): its exact "iss", or the tenant template that
// its "iss" matched; "" when no policy did. It does not allocate.
func (t *Token) PolicyIssuer() string {
	if t.pol == nil {
		return ""
	}
	return t.pol.name
}

// FromCache reports whether the last Verify was answered by the
// verified-token cache, without cryptography.
func (t *Token) FromCache() bool { return t.hit }

// PayloadSegment returns the payload segment of the token as it was given
// (base64url, not decoded), or nil when it is not a compact JWS. It does not
// allocate.
func (t *Token) PayloadSegment() []byte {
	dot1, dot2, err := splitToken(t.raw)
	if err != nil {
		return nil
	}
	return t.raw[dot1+1 : dot2]
}

// Payload returns the decoded payload bytes (for signature-only verification,
// where the payload need not be JSON).
func (t *Token) Payload() []byte { return t.payload }

// Attachment returns the bytes attached to this token's cache entry with
// Verifier.Attach (nil if none). The server keeps precomputed identity headers
// there so that a cached request does no claim work.
func (t *Token) Attachment() []byte {
	if t.entry == nil {
		return nil
	}
	return t.entry.attachment()
}

// reset forgets the previous result, keeping the scratch memory. Verify
// calls it with nil on every failure, so that no claim of a rejected token
// stays readable.
func (t *Token) reset(raw []byte) {
	if !t.hit && cap(t.Claims.Audience) > cap(t.auds) {
		t.auds = t.Claims.Audience // keep the array the last parse grew
	}
	t.Header = Header{}
	t.Claims = Claims{Audience: t.auds[:0]}
	t.key, t.pol, t.entry, t.hit, t.sharedH, t.raw, t.payload = nil, nil, nil, false, nil, raw, nil
	t.buf = t.buf[:0]
}

// grow makes sure the scratch holds everything decoding a token of n bytes
// can need: the decoded segments (at most 3/4 n) plus unescaped strings and
// joined scopes (at most the decoded header and payload again).
func (t *Token) grow(n int) {
	if need := n*3/2 + 64; cap(t.buf) < need {
		t.buf = make([]byte, 0, need+need/4)
	}
}

// unescape returns the content of a JSON string: raw itself when it has no
// escapes, else its unescaped copy in the scratch memory.
func (t *Token) unescape(raw []byte, esc bool) []byte {
	if !esc { // the common case, kept small enough to inline
		return raw
	}
	return t.unescapeSlow(raw)
}

func (t *Token) unescapeSlow(raw []byte) []byte {
	start := len(t.buf)
	t.buf = appendUnescaped(t.buf, raw)
	return t.buf[start:len(t.buf):len(t.buf)]
}

// decode appends the strict base64url decoding of seg to the scratch memory.
func (t *Token) decode(seg []byte) ([]byte, bool) {
	start := len(t.buf)
	out, ok := b64Decode(t.buf, seg)
	if !ok {
		return nil, false
	}
	t.buf = out
	return out[start:len(out):len(out)], true
}

// decodePlain is decode that also reports whether the decoded bytes are
// plain: printable ASCII (0x20..0x7E) without a backslash, which a JSON
// scanner can read with no escape or UTF-8 handling. The classification
// comes from the same pass as the decoding.
func (t *Token) decodePlain(seg []byte) (out []byte, plain, ok bool) {
	start := len(t.buf)
	out, plain, ok = b64DecodePlain(t.buf, seg)
	if !ok {
		return nil, false, false
	}
	t.buf = out
	return out[start:len(out):len(out)], plain, true
}
