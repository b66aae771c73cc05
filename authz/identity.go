package authz

import (
	"encoding/binary"
	"fmt"
	"net/textproto"

	"github.com/jwtgate/jwtgate/engine"
)

// identity computes the headers of an allowed request from a verified
// token.
//
// The values are kept in the token's block (see view.go), so that a cached
// request copies them without looking at a claim again.
//
// Values are never altered: a claim that holds a control character or does
// not fit in MaxValueBytes makes the request fail (401) rather than forward
// a truncated or rewritten identity that could name someone else.
type identity struct {
	headers    []identityHeader
	payload    *identityHeader // carries the verified payload; nil when off
	maxValue   int
	maxPayload int
	lookAlike  []string // normalized names (lower case, '_' and '.' as '-')
	strip      []string // canonical names
}

type identityHeader struct {
	name    string // canonical header name
	nameB   []byte
	claim   ClaimPath
	kind    claimKind
	sep     string
	json    bool
	tooLong *Denial
	control *Denial
}

// reservedHeaders cannot carry identity: the proxies and HTTP itself own
// them.
var reservedHeaders = map[string]bool{
	"Authorization": true, "Connection": true, "Content-Length": true, "Content-Type": true,
	"Content-Encoding": true, "Date": true, "Host": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Server": true, "Set-Cookie": true, "Cookie": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true, "Www-Authenticate": true, "Location": true,
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

func compileIdentity(p *problems, slots *slotTable, cfg *Identity) *identity {
	id := &identity{maxValue: cfg.MaxValueBytes, maxPayload: cfg.MaxPayloadBytes}
	if id.maxValue == 0 {
		id.maxValue = DefaultMaxValueBytes
	}
	if id.maxPayload == 0 {
		id.maxPayload = DefaultMaxPayloadBytes
	}
	if cfg.MaxValueBytes < 0 || cfg.MaxValueBytes > 64<<10 {
		p.add(ErrSetting, "identity.max_value_bytes", "must be between 1 and 65536", "leave it out for the default, 1024")
	}
	if cfg.MaxPayloadBytes < 0 || cfg.MaxPayloadBytes > 64<<10 {
		p.add(ErrSetting, "identity.max_payload_bytes", "must be between 1 and 65536", "leave it out for the default, 8192")
	}
	headers := cfg.Headers
	if headers == nil {
		headers = DefaultIdentityHeaders()
	}
	seen := map[string]string{}
	addName := func(field, name string) string {
		if !IsToken(name) {
			p.add(ErrSetting, field, fmt.Sprintf("%q is not a header name", name), "name a header such as X-Auth-Subject")
			return name
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		if reservedHeaders[canon] {
			p.add(ErrSetting, field, fmt.Sprintf("%s cannot carry identity: HTTP or the proxies own it", canon), "name a header of your own, such as X-Auth-Subject")
		}
		norm := lookAlikeForm(name)
		if other, dup := seen[norm]; dup {
			p.add(ErrSetting, field, fmt.Sprintf("%q is the same header as %s (names that differ only in case or in characters other than letters and digits reach an upstream as one)", name, other),
				"give each claim its own header name")
		}
		seen[norm] = field
		id.lookAlike = append(id.lookAlike, norm)
		id.strip = append(id.strip, canon)
		return canon
	}
	for i, h := range headers {
		f := fmt.Sprintf("identity.headers[%d]", i)
		ih := identityHeader{sep: h.Separator}
		ih.name = addName(f+".header", h.Header)
		ih.nameB = []byte(ih.name)
		if ih.sep == "" {
			ih.sep = DefaultSeparator
		}
		if hasControl([]byte(ih.sep)) {
			p.add(ErrSetting, f+".separator", "the separator holds control characters", "use printable characters, such as \",\" or \" \"")
		}
		switch h.Format {
		case "", FormatText:
		case FormatJSON:
			ih.json = true
		default:
			p.add(ErrSetting, f+".format", fmt.Sprintf("unknown format %q", h.Format), "use text or json")
		}
		path, err := parseClaimPath(h.Claim)
		if err != nil {
			p.add(ErrClaimPath, f+".claim", fmt.Sprintf("claim path %q: %v", h.Claim, err),
				pathFix)
		}
		slots.register(&path)
		ih.claim = path
		if len(path.names) == 1 && !ih.json {
			switch path.names[0] {
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
		}
		ih.tooLong = NewDenial(401, engine.OAuthInvalidToken, "identity_unforwardable",
			fmt.Sprintf("claim %q is longer than %d bytes and cannot be forwarded in %s", h.Claim, id.maxValue, ih.name))
		ih.control = NewDenial(401, engine.OAuthInvalidToken, "identity_unforwardable",
			fmt.Sprintf("claim %q holds control characters and cannot be forwarded in %s", h.Claim, ih.name))
		id.headers = append(id.headers, ih)
	}
	if cfg.PayloadHeader != "" {
		ph := &identityHeader{}
		ph.name = addName("identity.payload_header", cfg.PayloadHeader)
		ph.nameB = []byte(ph.name)
		ph.tooLong = NewDenial(401, engine.OAuthInvalidToken, "identity_unforwardable",
			fmt.Sprintf("the token payload is longer than %d bytes and cannot be forwarded in %s", id.maxPayload, ph.name))
		id.payload = ph
	}
	return id
}

// empty reports whether there are no identity headers at all.
func (id *identity) empty() bool { return len(id.headers) == 0 && id.payload == nil }

// build appends the identity values of the verified token t (raw: the token
// as sent; view: its claims) to dst.
func (id *identity) build(dst []byte, t *engine.Token, raw []byte, view *claimView) ([]byte, *Denial) {
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
			if v, ok := view.lookup(&h.claim); ok {
				if h.json {
					dst = appendCompact(dst, v)
				} else {
					var good bool
					if dst, good = engine.AppendClaimText(dst, v, h.sep); !good {
						return dst, h.control
					}
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
			return dst, id.payload.tooLong
		}
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
		dst = append(dst, p...)
	}
	return dst, nil
}

// visit calls fn with every header name and its value in values (the
// values part of a block; nil: every header with an empty value).
func (id *identity) visit(block []byte, fn func(name, value []byte)) {
	for i := range id.headers {
		var v []byte
		v, block = nextValue(block)
		fn(id.headers[i].nameB, v)
	}
	if id.payload != nil {
		v, _ := nextValue(block)
		fn(id.payload.nameB, v)
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

// lookAlikeForm is the form in which two header names that an upstream may
// take for one compare equal: lower case, every byte but a letter or a
// digit read as '-' (CGI, WSGI, PHP and nginx-variable backends read
// X_Auth_Subject, X.Auth.Subject and X~Auth~Subject as X-Auth-Subject).
func lookAlikeForm(name string) string {
	b := []byte(name)
	for i, c := range b {
		b[i] = lookAlikeByte(c)
	}
	return string(b)
}

func lookAlikeByte(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c + 'a' - 'A'
	case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
		return c
	}
	return '-'
}

// isLookAlike reports whether name reads as one of the identity headers.
func (id *identity) isLookAlike(name []byte) bool {
	for _, n := range id.lookAlike {
		if len(n) != len(name) {
			continue
		}
		same := true
		for i := 0; i < len(name); i++ {
			if lookAlikeByte(name[i]) != n[i] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}
