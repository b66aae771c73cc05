package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/jwtgate/jwtgate/engine"
)

// resultWriter renders verify's JSON lines into a reusable buffer, so that a
// token's output costs no allocation.
type resultWriter struct {
	buf     []byte
	compact bytes.Buffer
}

// valid renders {"valid":true,"header":{...},"claims":{...}}, or for
// signature-only checks {"valid":true,"header":{...},"payload":"..."}.
func (w *resultWriter) valid(t *engine.Token, noClaims bool) []byte {
	b := append(w.buf[:0], `{"valid":true,"header":`...)
	b = w.appendObject(b, t.Header.Raw())
	if noClaims {
		b = appendPayload(b, t.Payload())
	} else {
		b = append(b, `,"claims":`...)
		b = w.appendObject(b, t.Claims.Raw())
	}
	b = append(b, "}\n"...)
	w.buf = b
	return b
}

// invalid renders {"valid":false,"error":CODE,"reason":REASON,"description":TEXT}.
func (w *resultWriter) invalid(err error) []byte {
	code, reason := engine.OAuthInvalidToken, "error"
	if e, ok := err.(*engine.Error); ok { // every verifier failure; no allocation
		code, reason = e.OAuthCode(), e.Reason()
	} else if e := (*engine.Error)(nil); errors.As(err, &e) {
		code, reason = e.OAuthCode(), e.Reason()
	}
	return w.invalidReason(code, reason, err.Error())
}

// invalidReason renders {"valid":false,"error":CODE,"reason":REASON,"description":DESC}.
func (w *resultWriter) invalidReason(code, reason, desc string) []byte {
	b := append(w.buf[:0], `{"valid":false,"error":`...)
	b = appendJSONString(b, code)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, reason)
	b = append(b, `,"description":`...)
	b = appendJSONString(b, desc)
	b = append(b, "}\n"...)
	w.buf = b
	return b
}

// summary renders {"valid":N,"invalid":M}.
func (w *resultWriter) summary(valid, invalid uint64) []byte {
	b := append(w.buf[:0], `{"valid":`...)
	b = strconv.AppendUint(b, valid, 10)
	b = append(b, `,"invalid":`...)
	b = strconv.AppendUint(b, invalid, 10)
	b = append(b, "}\n"...)
	w.buf = b
	return b
}

// appendObject appends the decoded header or payload JSON of a verified
// token on one line. The verifier has checked it is one JSON object; what
// encoding/json cannot compact as it is (invalid UTF-8) is re-encoded, with
// U+FFFD for bad bytes.
func (w *resultWriter) appendObject(b, raw []byte) []byte {
	if utf8.Valid(raw) {
		w.compact.Reset()
		if json.Compact(&w.compact, raw) == nil {
			return append(b, w.compact.Bytes()...)
		}
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		if out, err := json.Marshal(v); err == nil {
			return append(b, out...)
		}
	}
	return appendJSONString(b, string(raw)) // not reached for a verified token
}

// appendPayload appends the payload of a signature-only check: as the JSON
// string "payload" when it is valid UTF-8, else base64url-encoded as
// "payload_base64url".
func appendPayload(b, payload []byte) []byte {
	if utf8.Valid(payload) {
		b = append(b, `,"payload":`...)
		return appendJSONBytes(b, payload)
	}
	b = append(b, `,"payload_base64url":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, payload)
	return append(b, '"')
}

// appendJSONString appends s as a JSON string, without copying it first.
func appendJSONString(b []byte, s string) []byte {
	return appendJSONBytes(b, unsafe.Slice(unsafe.StringData(s), len(s))) // only read
}

const hexDigits = "0123456789abcdef"

// appendJSONBytes appends s, which should be UTF-8, as a JSON string:
// quotes, backslashes and control characters escaped, invalid bytes as U+FFFD.
func appendJSONBytes(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
