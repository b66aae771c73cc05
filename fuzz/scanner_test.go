package fuzz

import (
	"encoding/json"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// FuzzScanHeader compares engine.ScanHeader with the reference header
// reading (encoding/json plus jwtgate's documented strictness, see
// refverify_test.go): the same inputs are valid headers, and alg, kid, typ
// and cty have the same values.
func FuzzScanHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var tok engine.Token
		err := engine.ScanHeader(data, &tok)
		checkError(t, err)
		ref, refErr := refParseHeader(data)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("ScanHeader: %v; reference: %v\nheader %q", err, refErr, data)
		}
		if err != nil {
			return
		}
		h := &tok.Header
		if h.Alg.String() != ref.alg || string(h.Kid) != ref.kid || h.HasKid != ref.hasKid {
			t.Fatalf("alg=%v kid=%q(%v); reference %q %q(%v)\nheader %q", h.Alg, h.Kid, h.HasKid, ref.alg, ref.kid, ref.hasKid, data)
		}
		if (h.Typ != nil) != (ref.typ != nil) || ref.typ != nil && string(h.Typ) != *ref.typ {
			t.Fatalf("typ=%q; reference %v\nheader %q", h.Typ, derefString(ref.typ), data)
		}
		if (h.Cty != nil) != (ref.cty != nil) || ref.cty != nil && string(h.Cty) != *ref.cty {
			t.Fatalf("cty=%q; reference %v\nheader %q", h.Cty, derefString(ref.cty), data)
		}
		if string(h.Raw()) != string(data) {
			t.Fatalf("Raw() = %q", h.Raw())
		}
	})
}

// FuzzScanClaims compares engine.ScanClaims with the reference claims
// reading: the same inputs are valid claims sets, and the registered claims
// and raw lookups of every member have the same values.
func FuzzScanClaims(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var tok engine.Token
		err := engine.ScanClaims(data, &tok)
		checkError(t, err)
		ref, refErr := refParseClaims(data)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("ScanClaims: %v; reference: %v\npayload %q", err, refErr, data)
		}
		if err != nil {
			return
		}
		compareClaims(t, &tok.Claims, &ref)
		if string(tok.Claims.Raw()) != string(data) {
			t.Fatalf("Raw() = %q", tok.Claims.Raw())
		}
		// Decode (goccy/go-json) never panics, and agrees with
		// encoding/json on every payload the scanner accepts: both decode
		// it with the same members, or both refuse (a number out of
		// float64's range, say).
		var decoded, ref2 map[string]any
		err, refErr = tok.Claims.Decode(&decoded), json.Unmarshal(data, &ref2)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Decode: %v; encoding/json: %v\npayload %q", err, refErr, data)
		}
		if err == nil && len(decoded) != len(ref2) {
			t.Fatalf("Decode saw %d members, encoding/json %d\npayload %q", len(decoded), len(ref2), data)
		}
	})
}
