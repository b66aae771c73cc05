package authz

import (
	"errors"

	"github.com/jwtgate/jwtgate/engine"
)

// Denial is why a request is refused: its status (401 or 403), RFC 6750
// error code ("" for a request without a token, or for a refusal that is
// not about the token), a stable reason for metrics and logs, a description
// for the client, and for insufficient_scope the scopes that would have
// sufficed. Denials are built once, when a Policy is compiled (or as values
// in the caller's State for verification failures): refusing allocates
// nothing.
type Denial struct {
	status    int
	code      string
	reason    string
	desc      string
	scope     string
	condition string
}

// NewDenial returns a refusal that a front end makes about its transport
// (for instance an ambiguous original URI) with the same shape as the
// policy's own. Call it once, at setup.
func NewDenial(status int, code, reason, desc string) *Denial {
	return &Denial{status: status, code: code, reason: reason, desc: desc}
}

// Status returns the HTTP status: 401 or 403.
func (d *Denial) Status() int { return d.status }

// Code returns the RFC 6750 error code: "invalid_token",
// "insufficient_scope", or "" (no token; or not about the token).
func (d *Denial) Code() string { return d.code }

// Reason returns the stable machine-readable reason, e.g. "no_token",
// "expired", "rule_scope", "rule_condition".
func (d *Denial) Reason() string { return d.reason }

// Description returns the one-line description for the client. It never
// holds a claim value.
func (d *Denial) Description() string { return d.desc }

// Scope returns the scope attribute of an insufficient_scope refusal (the
// space-separated scopes that would have sufficed), or "".
func (d *Denial) Scope() string { return d.scope }

// Condition returns, for a failed claim condition ("rule_condition"), the
// route and the condition that failed, as "route: name-or-position".
func (d *Denial) Condition() string { return d.condition }

// WithStatus returns a copy of d answered with status instead, for a front
// end whose contract differs (POST /verify answers a refused token with 401
// whatever the reason).
func (d *Denial) WithStatus(status int) Denial {
	c := *d
	c.status = status
	return c
}

// Challenges reports whether the answer carries a WWW-Authenticate
// challenge: every 401, and every refusal with an RFC 6750 code.
func (d *Denial) Challenges() bool { return d.code != "" || d.status == 401 }

// AppendChallenge appends the WWW-Authenticate value (RFC 6750 §3): no error
// attributes for a request without a token.
func (d *Denial) AppendChallenge(dst []byte, realm string) []byte {
	dst = append(dst, `Bearer realm="`...)
	dst = appendQuoted(dst, realm)
	dst = append(dst, '"')
	if d.code == "" {
		return dst
	}
	dst = append(dst, `, error="`...)
	dst = append(dst, d.code...)
	dst = append(dst, `", error_description="`...)
	dst = appendQuoted(dst, d.desc)
	dst = append(dst, '"')
	if d.scope != "" {
		dst = append(dst, `, scope="`...)
		dst = appendQuoted(dst, d.scope)
		dst = append(dst, '"')
	}
	return dst
}

// AppendJSON appends the small JSON body of a refusal and a newline. With
// valid it starts with "valid":false (the shape of /verify).
func (d *Denial) AppendJSON(dst []byte, valid bool) []byte {
	dst = append(dst, '{')
	if valid {
		dst = append(dst, `"valid":false,`...)
	}
	if d.code != "" {
		dst = append(dst, `"error":`...)
		dst = appendJSONString(dst, d.code)
		dst = append(dst, ',')
	}
	dst = append(dst, `"reason":`...)
	dst = appendJSONString(dst, d.reason)
	dst = append(dst, `,"description":`...)
	dst = appendJSONString(dst, d.desc)
	if d.scope != "" {
		dst = append(dst, `,"scope":`...)
		dst = appendJSONString(dst, d.scope)
	}
	if d.condition != "" {
		dst = append(dst, `,"condition":`...)
		dst = appendJSONString(dst, d.condition)
	}
	return append(dst, '}', '\n')
}

// DenialOf describes a verification error. scope is the scopes the token's
// issuer requires, reported with engine.ErrScope. It does not allocate for
// an *engine.Error.
func DenialOf(err error, scope string) Denial {
	e, ok := err.(*engine.Error)
	if !ok {
		if e = asEngineError(err); e == nil {
			return Denial{status: 401, code: engine.OAuthInvalidToken, reason: "other", desc: err.Error()}
		}
	}
	d := Denial{status: 401, code: e.OAuthCode(), reason: e.Reason(), desc: err.Error()}
	if d.code == engine.OAuthInsufficientScope {
		d.status = 403
		if errors.Is(e, engine.ErrScope) {
			d.scope = scope
		}
	}
	if d.code == "" {
		d.code = engine.OAuthInvalidToken
	}
	return d
}

// asEngineError finds an *engine.Error in a wrapped error. It is apart from
// DenialOf so that the common case, an *engine.Error itself, does not make
// the variable escape.
func asEngineError(err error) *engine.Error {
	var e *engine.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// appendQuoted appends s as the content of an RFC 6750 quoted attribute:
// error_description allows only %x20-21 / %x23-5B / %x5D-7E, so '"' and '\'
// become an apostrophe and a slash, and anything else outside printable
// ASCII becomes '?'.
func appendQuoted(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			dst = append(dst, '\'')
		case c == '\\':
			dst = append(dst, '/')
		case c < 0x20 || c > 0x7e:
			dst = append(dst, '?')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping quotes, backslashes
// and control characters.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
