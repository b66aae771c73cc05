package server

import (
	"encoding/json"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
)

// denial is a refusal: the decision package's, which every front end
// shares.
type denial = authz.Denial

// newDenial is a refusal the server makes about its transport.
func newDenial(status int, code, reason, desc string) *denial {
	return authz.NewDenial(status, code, reason, desc)
}

// codeInvalidToken is the RFC 6750 code of a bad token.
const codeInvalidToken = engine.OAuthInvalidToken

// appendJSONString appends s as a JSON string (for the /readyz detail, off
// the request path).
func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return append(dst, b...)
}
