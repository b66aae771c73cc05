package server

import (
	"errors"

	"github.com/jwtgate/jwtgate/engine"
)

// RFC 6750 §3.1 error codes.
const (
	codeInvalidToken      = engine.OAuthInvalidToken
	codeInsufficientScope = engine.OAuthInsufficientScope
)

// denial is why a request is refused: its status (401 or 403), RFC 6750
// error code ("" for a request without a token), a stable reason for
// metrics and /verify, a description for the client, and for
// insufficient_scope the scopes that would have sufficed.
type denial struct {
	status int
	code   string
	reason string
	desc   string
	scope  string
}

func newDenial(status int, code, reason, desc string) *denial {
	return &denial{status: status, code: code, reason: reason, desc: desc}
}

// denialOf describes a verification error. scope is the issuer's required
// scopes, reported with an insufficient-scope failure. It does not allocate
// for an *engine.Error.
func denialOf(err error, scope string) denial {
	e, ok := err.(*engine.Error)
	if !ok {
		if e = asEngineError(err); e == nil {
			return denial{status: 401, code: codeInvalidToken, reason: "other", desc: err.Error()}
		}
	}
	d := denial{status: 401, code: e.OAuthCode(), reason: e.Reason(), desc: err.Error()}
	if d.code == codeInsufficientScope {
		d.status = 403
		if errors.Is(e, engine.ErrScope) {
			d.scope = scope
		}
	}
	if d.code == "" {
		d.code = codeInvalidToken
	}
	return d
}

// asEngineError finds an *engine.Error in a wrapped error. It is apart from
// denialOf so that the common case, an *engine.Error itself, does not make
// the variable escape.
func asEngineError(err error) *engine.Error {
	var e *engine.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// appendChallenge appends the WWW-Authenticate value for d (RFC 6750 §3):
// no error attributes for a request without a token.
func appendChallenge(dst []byte, realm string, d *denial) []byte {
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

// appendQuoted appends s as the content of an RFC 6750 quoted attribute:
// error_description allows only %x20-21 / %x23-5B / %x5D-7E, so '"' and '\'
// become an apostrophe and a slash, and anything else outside printable ASCII becomes '?'.
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

// appendDenialJSON appends the small JSON body of a refusal. With valid it
// starts with "valid":false (the /verify shape).
func appendDenialJSON(dst []byte, d *denial, valid bool) []byte {
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
	return append(dst, '}', '\n')
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
