package engine_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// The hostile-input table: every row is a token an attacker could send, built
// so that exactly the check it names is the one that fails (tokens are
// correctly signed unless the row is about the signature), and the precise
// error — its reason and its one-line description — is asserted.

// Descriptions of the precise errors, as clients see them.
const (
	descSegments     = "token must have exactly three dot-separated segments"
	descEmpty        = "token is empty"
	descHeaderB64    = "token header is not strict base64url (no padding, whitespace or foreign characters)"
	descPayloadB64   = "token payload is not strict base64url (no padding, whitespace or foreign characters)"
	descSigB64       = "token signature is not strict base64url (no padding, whitespace or foreign characters)"
	descHeaderJSON   = "token header is not a JSON object"
	descPayloadJSON  = "token payload is not a JSON object"
	descNoAlg        = "token header has no alg"
	descAlgType      = "token header alg must be a string"
	descKidType      = "token header kid must be a string"
	descTypType      = "token header typ must be a string"
	descCtyType      = "token header cty must be a string"
	descB64Type      = "token header b64 must be a boolean"
	descB64False     = "unencoded payloads (b64=false) are not supported"
	descCritType     = "token header crit must be a non-empty array of strings"
	descCritDup      = "token header crit lists a name twice"
	descCritAbsent   = "token header crit lists a name that is not in the header"
	descNested       = "nested JWTs (cty JWT) are not supported"
	descHeaderDup    = "token header has a duplicate member"
	descClaimDup     = "token payload has a duplicate claim"
	descSigEmpty     = "token signature is empty"
	descSigLength    = "token signature has the wrong length for its algorithm"
	descSigECRange   = "ECDSA signature r or s is outside [1, n-1]"
	descSigECDER     = "ECDSA signature must be r‖s (IEEE P1363, RFC 7518 §3.4), not ASN.1 DER"
	descAlgNone      = `unsigned tokens (alg "none", in any spelling) are never accepted`
	descUnsupported  = "token alg is not a supported signature algorithm"
	descAlgNotAllow  = "token alg is not allowed by this verifier"
	descUnknownKid   = "no key with the token's kid is known for its issuer"
	descUnknownCrit  = "token header lists a critical extension that is not understood"
	descBadSignature = "token signature is invalid"
	descTooLarge16K  = "token is over the 16384-byte cap (Config.MaxTokenSize raises it)"
	descExpired      = "token has expired"
	descTypeIss      = `claim "iss" must be a string`
	descTypeSub      = `claim "sub" must be a string`
	descTypeJti      = `claim "jti" must be a string`
	descTypeAud      = `claim "aud" must be a string or an array of strings`
	descTypeExp      = `claim "exp" must be a number (NumericDate)`
	descTypeNbf      = `claim "nbf" must be a number (NumericDate)`
	descTypeIat      = `claim "iat" must be a number (NumericDate)`
	descTypeScope    = `claim "scope" must be a space-separated string`
	descTypeScp      = `claim "scp" must be a string or an array of strings`
)

// hostileWorld holds one trusted key per algorithm (kid "k-<alg>"), an
// attacker's key per algorithm, and a loopback server that counts requests,
// whose URL hostile headers name in jku and x5u.
type hostileWorld struct {
	trusted  map[engine.Alg]*sign.Key
	attacker map[engine.Alg]*sign.Key
	keys     []*engine.Key
	url      string
	fetches  atomic.Int64
}

var b64url = base64.RawURLEncoding

func newHostileWorld(t *testing.T) *hostileWorld {
	t.Helper()
	w := &hostileWorld{trusted: map[engine.Alg]*sign.Key{}, attacker: map[engine.Alg]*sign.Key{}}
	for _, alg := range engine.Algorithms() {
		s := sign.MustGenerate(alg, "k-"+alg.String())
		k, err := s.EngineKey()
		if err != nil {
			t.Fatal(err)
		}
		w.trusted[alg], w.keys = s, append(w.keys, k)
		w.attacker[alg] = sign.MustGenerate(alg, "k-"+alg.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		w.fetches.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		rw.Write(sign.JWKS(w.attacker[engine.RS256]))
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// claimsJSON is the valid access token payload; extra, if not empty, is
// spliced in as the first members (so it can duplicate a later one).
func claimsJSON(extra string) string {
	b, _ := json.Marshal(accessClaims())
	if extra == "" {
		return string(b)
	}
	return "{" + extra + "," + string(b[1:])
}

// claimsWith is the valid payload with the named claims replaced (a nil value
// deletes the claim).
func claimsWith(kv ...any) string {
	m := accessClaims()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// signRaw signs exactly header and payload with k.
func signRaw(t *testing.T, k *sign.Key, header, payload string) string {
	t.Helper()
	tok, err := k.SignRaw([]byte(header), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// hdr is the usual header of the trusted key for alg, with extra members.
func hdr(alg engine.Alg, extra string) string {
	h := fmt.Sprintf(`{"alg":%q,"typ":"JWT","kid":"k-%s"`, alg.String(), alg.String())
	if extra != "" {
		h += "," + extra
	}
	return h + "}"
}

// valid signs the valid claims under the usual header with the trusted key.
func (w *hostileWorld) valid(t *testing.T, alg engine.Alg) string {
	return signRaw(t, w.trusted[alg], hdr(alg, ""), claimsJSON(""))
}

// segments splits a compact token into its three raw segments.
func segments(tok string) (h, p, s string) {
	parts := strings.SplitN(tok, ".", 3)
	return parts[0], parts[1], parts[2]
}

// withSig replaces the signature of tok with sig.
func withSig(tok string, sig []byte) string {
	h, p, _ := segments(tok)
	return h + "." + p + "." + b64url.EncodeToString(sig)
}

func decodedSig(t *testing.T, tok string) []byte {
	t.Helper()
	_, _, s := segments(tok)
	sig, err := b64url.Strict().DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// hmacWithSecret signs the valid claims as HS256 under the given header with
// an attacker-chosen secret.
func hmacWithSecret(t *testing.T, header string, secret []byte) string {
	k := &sign.Key{Alg: engine.HS256, Private: secret}
	return signRaw(t, k, header, claimsJSON(""))
}

// publicEncodings returns the public key of s in the forms an attacker would
// try as an HMAC secret.
func publicEncodings(t *testing.T, s *sign.Key) map[string][]byte {
	t.Helper()
	pub := s.Public()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := json.Marshal(s.PublicJWK())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{
		"PEM":      pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}),
		"DER":      der,
		"JWK JSON": jwk,
	}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		out["raw modulus"] = p.N.Bytes()
		out["PKCS1 PEM"] = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(p)})
	case *ecdsa.PublicKey:
		raw, err := p.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		out["raw point"] = raw
	case ed25519.PublicKey:
		out["raw key"] = []byte(p)
	}
	return out
}

// hostileCase is one row of the table.
type hostileCase struct {
	name  string
	token string
	// want is the reason (nil: the token must verify) and desc its exact
	// description.
	want error
	desc string
	// payloadOnly marks a failure in the payload, which signature-only
	// verification does not read: VerifySignature must accept the token.
	payloadOnly bool
	// keys, if set, replaces the verifier's key set; cfg adjusts its config.
	keys []*engine.Key
	cfg  func(*engine.Config)
}

func TestHostileInputs(t *testing.T) {
	w := newHostileWorld(t)
	var rows []hostileCase
	add := func(c ...hostileCase) { rows = append(rows, c...) }
	rs, es, hs := engine.RS256, engine.ES256, engine.HS256

	// alg "none" in any spelling, with and without a signature.
	for _, name := range []string{"none", "None", "NONE", "nOnE", `\u006eone`, `NoNe`} {
		header := fmt.Sprintf(`{"alg":"%s","typ":"JWT"}`, name)
		unsigned := b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(claimsJSON(""))) + "."
		add(hostileCase{name: "alg " + name + " unsigned", token: unsigned, want: engine.ErrAlgNone, desc: descAlgNone})
		withHMAC := hmacWithSecret(t, header, []byte("0123456789abcdef0123456789abcdef"))
		add(hostileCase{name: "alg " + name + " with signature", token: withHMAC, want: engine.ErrAlgNone, desc: descAlgNone})
		withKid := signRaw(t, w.trusted[rs], fmt.Sprintf(`{"alg":"%s","kid":"k-RS256"}`, name), claimsJSON(""))
		add(hostileCase{name: "alg " + name + " signed by the trusted key", token: withKid, want: engine.ErrAlgNone, desc: descAlgNone})
	}
	add(hostileCase{name: "alg none with trailing NUL is no algorithm", want: engine.ErrUnsupportedAlg, desc: descUnsupported,
		token: signRaw(t, w.trusted[rs], `{"alg":"none\u0000","kid":"k-RS256"}`, claimsJSON(""))})

	// HS256 whose secret is the trusted asymmetric public key, in every
	// encoding, presented under that key's kid and without a kid to an
	// issuer whose only key is the asymmetric one.
	for _, alg := range []engine.Alg{engine.RS256, engine.PS256, engine.ES256, engine.EdDSA} {
		for enc, secret := range publicEncodings(t, w.trusted[alg]) {
			withKid := hmacWithSecret(t, fmt.Sprintf(`{"alg":"HS256","typ":"JWT","kid":"k-%s"}`, alg), secret)
			add(hostileCase{name: fmt.Sprintf("HS256 keyed with %s public key as %s, kid of that key", alg, enc),
				token: withKid, want: engine.ErrAlgMismatch,
				desc: fmt.Sprintf("token alg HS256 does not match its key, which is bound to %s", alg)})
			noKid := hmacWithSecret(t, `{"alg":"HS256","typ":"JWT"}`, secret)
			only := mustEngineKey(t, w.trusted[alg])
			add(hostileCase{name: fmt.Sprintf("HS256 keyed with %s public key as %s, no kid", alg, enc),
				token: noKid, keys: []*engine.Key{only}, want: engine.ErrAlgMismatch,
				desc: fmt.Sprintf("token alg HS256 does not match its key, which is bound to %s", alg)})
			add(hostileCase{name: fmt.Sprintf("HS256 keyed with %s public key as %s, no kid, kid required", alg, enc),
				token: noKid, keys: []*engine.Key{only}, cfg: func(c *engine.Config) { c.RequireKid = true },
				want: engine.ErrKidRequired,
				desc: fmt.Sprintf("kid is required: the HS256 token has no kid, and the issuer's keys are %s", alg)})
		}
	}

	// Header key material is never used: the attacker signs with a key of
	// their own and names it in jwk, jku, x5u or x5c.
	attackerJWK, _ := json.Marshal(w.attacker[rs].PublicJWK())
	for _, c := range []struct{ name, member string }{
		{"embedded jwk", `"jwk":` + string(attackerJWK)},
		{"jku", fmt.Sprintf(`"jku":%q`, w.url+"/jwks.json")},
		{"x5u", fmt.Sprintf(`"x5u":%q`, w.url+"/cert.pem")},
		{"x5c", `"x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]`},
		{"jku and x5u and jwk", fmt.Sprintf(`"jku":%q,"x5u":%q,"jwk":%s`, w.url, w.url, attackerJWK)},
	} {
		add(hostileCase{name: c.name + " signed by the attacker's key, trusted kid",
			token: signRaw(t, w.attacker[rs], hdr(rs, c.member), claimsJSON("")),
			want:  engine.ErrBadSignature, desc: descBadSignature})
		add(hostileCase{name: c.name + " signed by the attacker's key, no kid",
			token: signRaw(t, w.attacker[rs], `{"alg":"RS256",`+c.member+`}`, claimsJSON("")),
			want:  engine.ErrBadSignature, desc: descBadSignature})
		add(hostileCase{name: c.name + " signed by the attacker's key, attacker's kid",
			token: signRaw(t, w.attacker[rs], `{"alg":"RS256","kid":"attacker",`+c.member+`}`, claimsJSON("")),
			want:  engine.ErrUnknownKid, desc: descUnknownKid})
		// The members are ignored, not rejected: a genuine token carrying
		// them verifies with the trusted key.
		add(hostileCase{name: c.name + " on a genuine token is ignored",
			token: signRaw(t, w.trusted[rs], hdr(rs, c.member), claimsJSON(""))})
	}

	// kid values that a file- or SQL-backed key store could mistake.
	for _, c := range []struct{ name, kid string }{
		{"path traversal", `../../../../../../etc/passwd`},
		{"path traversal to a trusted kid", `../k-RS256`},
		{"absolute path", `/dev/null`},
		{"quotes", `k-RS256\" , \"alg\":\"none`},
		{"SQL", `' OR '1'='1`},
		{"escaped NUL", `k-RS256\u0000`},
		{"escaped NUL first", `\u0000k-RS256`},
		{"5000 characters", strings.Repeat("A", 5000)},
		{"trusted kid with trailing space", `k-RS256 `},
		{"trusted kid in another case", `K-RS256`},
	} {
		add(hostileCase{name: "kid " + c.name, want: engine.ErrUnknownKid, desc: descUnknownKid,
			token: signRaw(t, w.trusted[rs], fmt.Sprintf(`{"alg":"RS256","kid":"%s"}`, c.kid), claimsJSON(""))})
	}
	add(hostileCase{name: "kid with a raw NUL byte", want: engine.ErrMalformed, desc: descHeaderJSON,
		token: signRaw(t, w.trusted[rs], "{\"alg\":\"RS256\",\"kid\":\"k-RS256\x00\"}", claimsJSON(""))})
	// An empty kid names no key (KeyLookup treats it as absent), so it does
	// not satisfy a verifier that requires a kid.
	add(hostileCase{name: "empty kid, kid required", want: engine.ErrKidRequired,
		desc:  "kid is required: the RS256 token has no kid, and the issuer's keys are RS256",
		cfg:   func(c *engine.Config) { c.RequireKid = true },
		token: signRaw(t, w.trusted[rs], `{"alg":"RS256","kid":""}`, claimsJSON(""))})
	add(hostileCase{name: "empty kid, kid not required, the issuer's one RS256 key",
		token: signRaw(t, w.trusted[rs], `{"alg":"RS256","kid":""}`, claimsJSON(""))})
	add(hostileCase{name: "kid a number", want: engine.ErrMalformed, desc: descKidType,
		token: signRaw(t, w.trusted[rs], `{"alg":"RS256","kid":1}`, claimsJSON(""))})
	add(hostileCase{name: "kid an array", want: engine.ErrMalformed, desc: descKidType,
		token: signRaw(t, w.trusted[rs], `{"alg":"RS256","kid":["k-RS256"]}`, claimsJSON(""))})
	add(hostileCase{name: "kid null", want: engine.ErrMalformed, desc: descKidType,
		token: signRaw(t, w.trusted[rs], `{"alg":"RS256","kid":null}`, claimsJSON(""))})

	// ECDSA signatures out of range or in the wrong encoding.
	for _, alg := range []engine.Alg{engine.ES256, engine.ES384, engine.ES512} {
		tok := w.valid(t, alg)
		sig := decodedSig(t, tok)
		half := len(sig) / 2
		order := orderOf(w.trusted[alg])
		zero := make([]byte, len(sig))
		add(hostileCase{name: alg.String() + " r=s=0", token: withSig(tok, zero), want: engine.ErrBadSignature, desc: descSigECRange})
		rZero := append(make([]byte, half), sig[half:]...)
		add(hostileCase{name: alg.String() + " r=0", token: withSig(tok, rZero), want: engine.ErrBadSignature, desc: descSigECRange})
		sZero := append(append([]byte{}, sig[:half]...), make([]byte, half)...)
		add(hostileCase{name: alg.String() + " s=0", token: withSig(tok, sZero), want: engine.ErrBadSignature, desc: descSigECRange})
		rN := append(order.FillBytes(make([]byte, half)), sig[half:]...)
		add(hostileCase{name: alg.String() + " r=n", token: withSig(tok, rN), want: engine.ErrBadSignature, desc: descSigECRange})
		sNplus := append(append([]byte{}, sig[:half]...), new(big.Int).Add(order, big.NewInt(1)).FillBytes(make([]byte, half))...)
		add(hostileCase{name: alg.String() + " s=n+1", token: withSig(tok, sNplus), want: engine.ErrBadSignature, desc: descSigECRange})
		ones := make([]byte, len(sig))
		for i := range ones {
			ones[i] = 0xff
		}
		add(hostileCase{name: alg.String() + " r=s=2^k-1", token: withSig(tok, ones), want: engine.ErrBadSignature, desc: descSigECRange})
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:half]), new(big.Int).SetBytes(sig[half:])})
		if err != nil {
			t.Fatal(err)
		}
		add(hostileCase{name: alg.String() + " DER-encoded signature", token: withSig(tok, der), want: engine.ErrBadSignature, desc: descSigECDER})
		// r‖s swapped is a different signature.
		swapped := append(append([]byte{}, sig[half:]...), sig[:half]...)
		add(hostileCase{name: alg.String() + " r and s swapped", token: withSig(tok, swapped), want: engine.ErrBadSignature, desc: descBadSignature})
	}

	// Truncated, extended, empty and bit-flipped signatures, every algorithm.
	for _, alg := range engine.Algorithms() {
		tok := w.valid(t, alg)
		sig := decodedSig(t, tok)
		h, p, _ := segments(tok)
		add(hostileCase{name: alg.String() + " empty signature", token: h + "." + p + ".", want: engine.ErrBadSignature, desc: descSigEmpty})
		add(hostileCase{name: alg.String() + " truncated by one byte", token: withSig(tok, sig[:len(sig)-1]), want: engine.ErrBadSignature, desc: descSigLength})
		add(hostileCase{name: alg.String() + " truncated to half", token: withSig(tok, sig[:len(sig)/2]), want: engine.ErrBadSignature, desc: descSigLength})
		add(hostileCase{name: alg.String() + " one byte appended", token: withSig(tok, append(append([]byte{}, sig...), 0)), want: engine.ErrBadSignature, desc: descSigLength})
		add(hostileCase{name: alg.String() + " leading zero byte", token: withSig(tok, append([]byte{0}, sig...)), want: engine.ErrBadSignature, desc: descSigLength})
		positions := []int{0, len(sig) / 2, len(sig) - 1}
		if alg.Family() == engine.FamilyEC {
			// The low bit of r or s: r±1 and s±1 stay in [1, n-1].
			positions = []int{len(sig)/2 - 1, len(sig) - 1}
		}
		for _, pos := range positions {
			flipped := append([]byte{}, sig...)
			flipped[pos] ^= 0x01
			add(hostileCase{name: fmt.Sprintf("%s bit flipped at byte %d", alg, pos), token: withSig(tok, flipped), want: engine.ErrBadSignature, desc: descBadSignature})
		}
		// The same header and claims signed by the attacker's key of the
		// same algorithm (and size).
		forged, err := w.attacker[alg].SignInput([]byte(h + "." + p))
		if err != nil {
			t.Fatal(err)
		}
		add(hostileCase{name: alg.String() + " signature made by another key", token: withSig(tok, forged), want: engine.ErrBadSignature, desc: descBadSignature})
		// The signature over a different payload.
		otherTok := signRaw(t, w.trusted[alg], hdr(alg, ""), claimsWith("sub", "admin"))
		add(hostileCase{name: alg.String() + " signature of another payload", token: withSig(tok, decodedSig(t, otherTok)), want: engine.ErrBadSignature, desc: descBadSignature})
	}

	// Encoding: padding, whitespace, foreign characters, segment counts.
	good := w.valid(t, rs)
	gh, gp, gs := segments(good)
	padded := func(seg string) string {
		if len(seg)%4 == 0 {
			return seg + "===="
		}
		return seg + strings.Repeat("=", 4-len(seg)%4)
	}
	for _, c := range []struct {
		name, token, desc string
	}{
		{"padded header", padded(gh) + "." + gp + "." + gs, descHeaderB64},
		{"padded payload", gh + "." + padded(gp) + "." + gs, descPayloadB64},
		{"padded signature", gh + "." + gp + "." + padded(gs), descSigB64},
		{"one '=' after the signature", good + "=", descSigB64},
		{"space inside the header", gh[:4] + " " + gh[4:] + "." + gp + "." + gs, descHeaderB64},
		{"leading space", " " + good, descHeaderB64},
		{"trailing space", good + " ", descSigB64},
		{"trailing newline", good + "\n", descSigB64},
		{"CRLF inside the payload", gh + "." + gp[:8] + "\r\n" + gp[8:] + "." + gs, descPayloadB64},
		{"tab inside the signature", gh + "." + gp + "." + gs[:8] + "\t" + gs[8:], descSigB64},
		{"non-ASCII in the payload", gh + "." + gp[:8] + "é" + gp[8:] + "." + gs, descPayloadB64},
		{"non-ASCII in the header", "ü" + gh + "." + gp + "." + gs, descHeaderB64},
		{"standard alphabet '+' in the header", gh[:5] + "+" + gh[6:] + "." + gp + "." + gs, descHeaderB64},
		{"standard alphabet '/' in the signature", gh + "." + gp + "." + gs[:10] + "/" + gs[11:], descSigB64},
		{"NUL byte in the signature", gh + "." + gp + "." + gs[:10] + "\x00" + gs[11:], descSigB64},
		{"header of impossible length (n%4==1)", nonCanonicalLen(gh) + "." + gp + "." + gs, descHeaderB64},
		{"payload of impossible length (n%4==1)", gh + "." + nonCanonicalLen(gp) + "." + gs, descPayloadB64},
		{"non-canonical trailing bits in the header", nonCanonical(gh) + "." + gp + "." + gs, descHeaderB64},
		{"non-canonical trailing bits in the payload", gh + "." + nonCanonical(gp) + "." + gs, descPayloadB64},
		{"percent-encoded dot", gh + "%2E" + gp + "." + gs, descSegments},
		{"two segments", gh + "." + gp, descSegments},
		{"one segment", gh, descSegments},
		{"four segments", good + "." + gs, descSegments},
		{"five segments (JWE shape)", gh + "." + gp + "." + gs + "." + gp + "." + gs, descSegments},
		{"trailing dot", good + ".", descSegments},
		{"dots only", "...", descSegments},
		{"two dots", "..", descHeaderJSON},
	} {
		add(hostileCase{name: c.name, token: c.token, want: engine.ErrMalformed, desc: c.desc})
	}
	add(hostileCase{name: "empty token", token: "", want: engine.ErrMalformed, desc: descEmpty})

	// Duplicate members, including ones that differ only in escaping.
	for _, c := range []struct{ name, header string }{
		{"duplicate alg", `{"alg":"RS256","kid":"k-RS256","alg":"HS256"}`},
		{"duplicate alg, same value", `{"alg":"RS256","kid":"k-RS256","alg":"RS256"}`},
		{"duplicate alg escaped", `{"alg":"RS256","kid":"k-RS256","\u0061lg":"HS256"}`},
		{"duplicate alg escaped upper-case hex", `{"\u0061\u006C\u0067":"RS256","kid":"k-RS256","alg":"RS256"}`},
		{"duplicate kid", `{"alg":"RS256","kid":"k-RS256","kid":"k-HS256"}`},
		{"duplicate kid escaped", `{"alg":"RS256","kid":"k-RS256","k\u0069d":"k-RS256"}`},
		{"duplicate typ", `{"alg":"RS256","kid":"k-RS256","typ":"JWT","typ":"at+jwt"}`},
		{"duplicate crit", `{"alg":"RS256","kid":"k-RS256","crit":["x"],"x":1,"crit":["x"]}`},
		{"duplicate unknown member", `{"alg":"RS256","kid":"k-RS256","foo":1,"foo":2}`},
		{"duplicate with solidus escape", `{"alg":"RS256","kid":"k-RS256","a/b":1,"a\/b":2}`},
		{"duplicate empty name", `{"alg":"RS256","kid":"k-RS256","":1,"":2}`},
	} {
		add(hostileCase{name: "header " + c.name, want: engine.ErrDuplicate, desc: descHeaderDup,
			token: signRaw(t, w.trusted[rs], c.header, claimsJSON(""))})
	}
	for _, c := range []struct{ name, extra string }{
		{"duplicate exp (later one valid)", `"exp":1`},
		{"duplicate exp (earlier one valid)", `"exp":99999999999`},
		{"duplicate sub", `"sub":"admin"`},
		{"duplicate iss", `"iss":"https://evil.example"`},
		{"duplicate aud", `"aud":["api://gateway","admin"]`},
		{"duplicate scope", `"scope":"admin"`},
		{"duplicate sub escaped", `"\u0073ub":"admin"`},
		{"duplicate exp escaped", `"e\u0078p":1`},
		{"duplicate custom claim", `"role":"user","role":"admin"`},
		{"duplicate custom claim escaped", `"role":"user","r\u006fle":"admin"`},
		{"duplicate with surrogate escape", `"😀":1,"\ud83d\ude00":2`},
	} {
		add(hostileCase{name: "claims " + c.name, want: engine.ErrDuplicate, desc: descClaimDup,
			token:       signRaw(t, w.trusted[rs], hdr(rs, ""), claimsJSON(c.extra)),
			payloadOnly: true})
	}
	// Thousands of distinct members are not duplicates (and cost linear time;
	// see the scanner tests).
	many := make([]string, 3000)
	for i := range many {
		many[i] = fmt.Sprintf(`"c%d":%d`, i, i)
	}
	roomy := func(c *engine.Config) { c.MaxTokenSize = 1 << 20 }
	add(hostileCase{name: "claims with 3000 distinct members verify", cfg: roomy,
		token: signRaw(t, w.trusted[rs], hdr(rs, ""), claimsJSON(strings.Join(many, ",")))})
	many[2999] = `"c17":0`
	add(hostileCase{name: "claims with 3000 members, the last a duplicate", want: engine.ErrDuplicate, desc: descClaimDup, cfg: roomy,
		token: signRaw(t, w.trusted[rs], hdr(rs, ""), claimsJSON(strings.Join(many, ","))), payloadOnly: true})

	// Header or payload that is not one JSON object.
	for _, c := range []struct{ name, json string }{
		{"an array", `["alg","RS256"]`},
		{"an array holding the object", `[{"alg":"RS256","kid":"k-RS256"}]`},
		{"a string", `"{\"alg\":\"RS256\",\"kid\":\"k-RS256\"}"`},
		{"a number", `256`},
		{"null", `null`},
		{"true", `true`},
		{"empty", ``},
		{"whitespace only", " \t\r\n"},
		{"not JSON", `alg=RS256&kid=k-RS256`},
		{"single-quoted", `{'alg':'RS256','kid':'k-RS256'}`},
		{"trailing garbage", `{"alg":"RS256","kid":"k-RS256"}x`},
		{"two objects", `{"alg":"RS256","kid":"k-RS256"}{}`},
		{"trailing comma", `{"alg":"RS256","kid":"k-RS256",}`},
		{"unterminated", `{"alg":"RS256","kid":"k-RS256"`},
		{"comment", `{"alg":"RS256",/*x*/"kid":"k-RS256"}`},
		{"byte order mark", "\ufeff" + `{"alg":"RS256","kid":"k-RS256"}`},
		{"invalid UTF-8 in a string", "{\"alg\":\"RS256\",\"kid\":\"k-RS256\",\"x\":\"\xff\"}"},
		{"invalid UTF-8 in a name", "{\"alg\":\"RS256\",\"kid\":\"k-RS256\",\"\xc3\x28\":1}"},
		{"overlong UTF-8", "{\"alg\":\"RS256\",\"kid\":\"k-RS256\",\"x\":\"\xc0\xaf\"}"},
		{"UTF-8 surrogate half", "{\"alg\":\"RS256\",\"kid\":\"k-RS256\",\"x\":\"\xed\xa0\x80\"}"},
		{"bad escape", `{"alg":"RS256","kid":"k-RS256","x":"\x"}`},
		{"short unicode escape", `{"alg":"RS256","kid":"k-RS256","x":"\u12"}`},
		{"leading zero number", `{"alg":"RS256","kid":"k-RS256","x":012}`},
		{"NaN", `{"alg":"RS256","kid":"k-RS256","x":NaN}`},
		{"nesting deeper than the limit", `{"alg":"RS256","kid":"k-RS256","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`},
	} {
		add(hostileCase{name: "header is " + c.name, want: engine.ErrMalformed, desc: descHeaderJSON,
			token: signRaw(t, w.trusted[rs], c.json, claimsJSON(""))})
		payload := strings.ReplaceAll(c.json, `"alg":"RS256","kid":"k-RS256"`, `"sub":"x","exp":99999999999`)
		add(hostileCase{name: "payload is " + c.name, want: engine.ErrMalformed, desc: descPayloadJSON,
			token: signRaw(t, w.trusted[rs], hdr(rs, ""), payload), payloadOnly: true})
	}

	// Header members of the wrong type, and missing alg.
	for _, c := range []struct{ name, header, desc string }{
		{"no alg", `{"kid":"k-RS256","typ":"JWT"}`, descNoAlg},
		{"empty object", `{}`, descNoAlg},
		{"alg a number", `{"alg":256,"kid":"k-RS256"}`, descAlgType},
		{"alg null", `{"alg":null,"kid":"k-RS256"}`, descAlgType},
		{"alg an array", `{"alg":["RS256"],"kid":"k-RS256"}`, descAlgType},
		{"typ a number", `{"alg":"RS256","kid":"k-RS256","typ":1}`, descTypType},
		{"cty an object", `{"alg":"RS256","kid":"k-RS256","cty":{}}`, descCtyType},
		{"cty JWT", `{"alg":"RS256","kid":"k-RS256","cty":"JWT"}`, descNested},
		{"cty jwt", `{"alg":"RS256","kid":"k-RS256","cty":"jwt"}`, descNested},
		{"cty application/jwt", `{"alg":"RS256","kid":"k-RS256","cty":"application/jwt"}`, descNested},
		{"cty APPLICATION/JWT", `{"alg":"RS256","kid":"k-RS256","cty":"APPLICATION/JWT"}`, descNested},
	} {
		add(hostileCase{name: "header " + c.name, want: engine.ErrMalformed, desc: c.desc,
			token: signRaw(t, w.trusted[rs], c.header, claimsJSON(""))})
	}
	for _, c := range []struct{ name, alg string }{
		{"lower case", "rs256"}, {"trailing space", "RS256 "}, {"empty", ""}, {"ES256K", "ES256K"},
		{"Ed25519 (RFC 9864)", "Ed25519"}, {"RSA-OAEP (a JWE alg)", "RSA-OAEP"}, {"dir", "dir"},
		{"HS1", "HS1"}, {"escaped NUL", `RS256\u0000`},
	} {
		add(hostileCase{name: "alg " + c.name, want: engine.ErrUnsupportedAlg, desc: descUnsupported,
			token: signRaw(t, w.trusted[rs], fmt.Sprintf(`{"alg":"%s","kid":"k-RS256"}`, c.alg), claimsJSON(""))})
	}
	add(hostileCase{name: "alg not allowed by the verifier", want: engine.ErrAlgNotAllowed, desc: descAlgNotAllow,
		token: w.valid(t, hs), cfg: func(c *engine.Config) { c.Algorithms = []engine.Alg{engine.RS256, engine.ES256} }})
	add(hostileCase{name: "RS256 token under the ES256 key's kid", want: engine.ErrAlgMismatch,
		desc:  "token alg RS256 does not match its key, which is bound to ES256",
		token: signRaw(t, w.trusted[rs], `{"alg":"RS256","kid":"k-ES256"}`, claimsJSON(""))})
	add(hostileCase{name: "PS256 token under the RS256 key's kid", want: engine.ErrAlgMismatch,
		desc:  "token alg PS256 does not match its key, which is bound to RS256",
		token: signRaw(t, w.trusted[engine.PS256], `{"alg":"PS256","kid":"k-RS256"}`, claimsJSON(""))})
	add(hostileCase{name: "ES384 signature under the ES256 header", want: engine.ErrAlgMismatch,
		desc:  "token alg ES256 does not match its key, which is bound to ES384",
		token: signRaw(t, w.trusted[engine.ES384], `{"alg":"ES256","kid":"k-ES384"}`, claimsJSON(""))})

	// Claims of the wrong JSON type, each in an otherwise valid, correctly
	// signed token.
	for _, c := range []struct {
		name   string
		claims string
		desc   string
	}{
		{"exp a string", claimsWith("exp", fmt.Sprint(epoch.Add(time.Hour).Unix())), descTypeExp},
		{"exp null", claimsWith("exp", json.RawMessage("null")), descTypeExp},
		{"exp an array", claimsWith("exp", []int64{epoch.Add(time.Hour).Unix()}), descTypeExp},
		{"exp true", claimsWith("exp", true), descTypeExp},
		{"nbf a string", claimsWith("nbf", "0"), descTypeNbf},
		{"iat an object", claimsWith("iat", map[string]int{"t": 1}), descTypeIat},
		{"aud a number", claimsWith("aud", 42), descTypeAud},
		{"aud an array with a number", claimsWith("aud", []any{testAudience, 42}), descTypeAud},
		{"aud an object", claimsWith("aud", map[string]string{"aud": testAudience}), descTypeAud},
		{"aud null", claimsWith("aud", json.RawMessage("null")), descTypeAud},
		{"aud nested array", claimsWith("aud", []any{[]string{testAudience}}), descTypeAud},
		{"iss an object", claimsWith("iss", map[string]string{"iss": testIssuer}), descTypeIss},
		{"iss an array", claimsWith("iss", []string{testIssuer}), descTypeIss},
		{"iss a number", claimsWith("iss", 1), descTypeIss},
		{"sub a number", claimsWith("sub", 1234567890), descTypeSub},
		{"sub null", claimsWith("sub", json.RawMessage("null")), descTypeSub},
		{"jti a number", claimsWith("jti", 7), descTypeJti},
		{"scope an array", claimsWith("scope", []string{"read"}), descTypeScope},
		{"scp a number", claimsWith("scope", nil, "scp", 1), descTypeScp},
		{"scp an array with an object", claimsWith("scope", nil, "scp", []any{"read", map[string]int{}}), descTypeScp},
	} {
		add(hostileCase{name: "claim " + c.name, want: engine.ErrClaimType, desc: c.desc,
			token: signRaw(t, w.trusted[rs], hdr(rs, ""), c.claims), payloadOnly: true})
	}

	// Signature first: nothing about the claims is reported before the
	// signature verifies.
	expired := claimsWith("exp", epoch.Add(-time.Hour).Unix())
	add(hostileCase{name: "expired and badly signed", want: engine.ErrBadSignature, desc: descBadSignature,
		token: signRaw(t, w.attacker[rs], hdr(rs, ""), expired)})
	add(hostileCase{name: "expired, well signed", want: engine.ErrExpired, desc: descExpired,
		token: signRaw(t, w.trusted[rs], hdr(rs, ""), expired), payloadOnly: true})
	add(hostileCase{name: "wrong claim type and badly signed", want: engine.ErrBadSignature, desc: descBadSignature,
		token: signRaw(t, w.attacker[rs], hdr(rs, ""), claimsWith("exp", "soon"))})
	add(hostileCase{name: "duplicate claims and badly signed", want: engine.ErrBadSignature, desc: descBadSignature,
		token: signRaw(t, w.attacker[rs], hdr(rs, ""), claimsJSON(`"exp":1`))})
	add(hostileCase{name: "payload not JSON and badly signed", want: engine.ErrBadSignature, desc: descBadSignature,
		token: signRaw(t, w.attacker[rs], hdr(rs, ""), "not json")})
	add(hostileCase{name: "wrong issuer and badly signed", want: engine.ErrBadSignature, desc: descBadSignature,
		token: signRaw(t, w.attacker[es], hdr(es, ""), claimsWith("iss", "https://evil.example"))})

	// The size cap, with correctly signed tokens.
	filler := strings.Repeat("x", engine.DefaultMaxTokenSize)
	big := signRaw(t, w.trusted[hs], hdr(hs, ""), claimsWith("filler", filler))
	add(hostileCase{name: "token over the default 16 KiB cap", token: big, want: engine.ErrTooLarge, desc: descTooLarge16K})
	add(hostileCase{name: "1 MiB of dots", token: strings.Repeat(".", 1<<20), want: engine.ErrTooLarge, desc: descTooLarge16K})
	small := w.valid(t, hs)
	add(hostileCase{name: "token exactly at a custom cap verifies", token: small,
		cfg: func(c *engine.Config) { c.MaxTokenSize = len(small) }})
	add(hostileCase{name: "token one byte over a custom cap", token: small, want: engine.ErrTooLarge,
		desc: fmt.Sprintf("token is over the %d-byte cap (Config.MaxTokenSize raises it)", len(small)-1),
		cfg:  func(c *engine.Config) { c.MaxTokenSize = len(small) - 1 }})

	// crit and b64 (RFC 7515 §4.1.11, RFC 7797).
	for _, c := range []struct {
		name, extra string
		want        error
		desc        string
		understood  []string
	}{
		{"crit with an unknown name", `"crit":["exp"],"exp":1`, engine.ErrUnknownCrit, descUnknownCrit, nil},
		{"crit naming a registered parameter", `"crit":["alg"]`, engine.ErrUnknownCrit, descUnknownCrit, nil},
		{"crit naming an absent unknown name", `"crit":["x-ext"]`, engine.ErrUnknownCrit, descUnknownCrit, nil},
		{"empty crit", `"crit":[]`, engine.ErrMalformed, descCritType, nil},
		{"crit a string", `"crit":"b64"`, engine.ErrMalformed, descCritType, nil},
		{"crit with a number", `"crit":[1]`, engine.ErrMalformed, descCritType, nil},
		{"crit null", `"crit":null`, engine.ErrMalformed, descCritType, nil},
		{"b64 in crit, b64 true", `"b64":true,"crit":["b64"]`, engine.ErrUnknownCrit, descUnknownCrit, nil},
		{"b64 in crit, b64 false", `"b64":false,"crit":["b64"]`, engine.ErrMalformed, descB64False, nil},
		{"b64 in crit before b64 false", `"crit":["b64"],"b64":false`, engine.ErrMalformed, descB64False, nil},
		{"b64 false without crit", `"b64":false`, engine.ErrMalformed, descB64False, nil},
		{"b64 a string", `"b64":"false"`, engine.ErrMalformed, descB64Type, nil},
		{"understood extension listed twice", `"crit":["x-ext","x-ext"],"x-ext":1`, engine.ErrMalformed, descCritDup, []string{"x-ext"}},
		{"understood extension absent from the header", `"crit":["x-ext"]`, engine.ErrMalformed, descCritAbsent, []string{"x-ext"}},
		{"understood and unknown extension", `"crit":["x-ext","y-ext"],"x-ext":1,"y-ext":2`, engine.ErrUnknownCrit, descUnknownCrit, []string{"x-ext"}},
		{"understood extension", `"crit":["x-ext"],"x-ext":1`, nil, "", []string{"x-ext"}},
		{"understood extension, escaped in crit", `"crit":["x\u002dext"],"x-ext":1`, nil, "", []string{"x-ext"}},
		{"b64 true without crit", `"b64":true`, nil, "", nil},
	} {
		understood := c.understood
		row := hostileCase{name: c.name, want: c.want, desc: c.desc,
			token: signRaw(t, w.trusted[rs], hdr(rs, c.extra), claimsJSON(""))}
		if understood != nil {
			row.cfg = func(cfg *engine.Config) { cfg.CriticalHeaders = understood }
		}
		add(row)
	}

	for _, cache := range []bool{false, true} {
		for _, c := range rows {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, c.name), func(t *testing.T) {
				v := w.verifier(t, c, cache)
				var res engine.Token
				// Twice, so that the second call meets whatever the first
				// left in the caches.
				for range 2 {
					checkHostile(t, "Verify", v.VerifyString(c.token, &res), &res, c.want, c.desc)
				}
				sigWant, sigDesc := c.want, c.desc
				if c.payloadOnly {
					sigWant, sigDesc = nil, ""
				}
				checkHostile(t, "VerifySignature", v.VerifySignature([]byte(c.token), &res), &res, sigWant, sigDesc)
				// ParseUnverified never panics, whatever it answers.
				_ = engine.ParseUnverified([]byte(c.token), &res)
			})
		}
	}
	if n := w.fetches.Load(); n != 0 {
		t.Errorf("the verifier fetched a URL named by a token header %d times", n)
	}
}

func checkHostile(t *testing.T, entry string, err error, res *engine.Token, want error, desc string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("%s: %v, want the token accepted", entry, err)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s accepted a hostile token, want %v", entry, want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("%s = %q, want reason %q (%q)", entry, err, reasonOf(want), desc)
	}
	if err.Error() != desc {
		t.Fatalf("%s description %q, want %q", entry, err.Error(), desc)
	}
	var e *engine.Error
	if !errors.As(err, &e) || e.OAuthCode() != engine.OAuthInvalidToken {
		t.Fatalf("%s = %#v, want an *engine.Error with code invalid_token", entry, err)
	}
	if res.Key() != nil {
		t.Fatalf("%s failed but the result names key %q", entry, res.Key().Kid())
	}
}

func reasonOf(err error) string {
	var e *engine.Error
	if errors.As(err, &e) {
		return e.Reason()
	}
	return err.Error()
}

func (w *hostileWorld) verifier(t *testing.T, c hostileCase, cache bool) *engine.Verifier {
	t.Helper()
	keys := w.keys
	if c.keys != nil {
		keys = c.keys
	}
	cfg := engine.Config{
		Keys:         &testKeys{keys: keys},
		Issuers:      []string{testIssuer},
		Audiences:    []string{testAudience},
		Clock:        newFakeClock(epoch),
		CacheEntries: -1,
	}
	if cache {
		cfg.CacheEntries = 0
	}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	v, err := engine.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustEngineKey(t *testing.T, s *sign.Key) *engine.Key {
	t.Helper()
	k, err := s.EngineKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func orderOf(s *sign.Key) *big.Int {
	return s.Private.(*ecdsa.PrivateKey).Curve.Params().N
}

// nonCanonical changes the unused trailing bits of an unpadded base64url
// segment whose length is not a multiple of 4, keeping its decoded length:
// a lenient decoder maps it to the same bytes, a strict one rejects it.
func nonCanonical(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 == 0 {
		seg = seg[:len(seg)-2] // a whole group: drop to two characters' worth
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1])
}

// nonCanonicalLen appends characters until the segment length is 1 mod 4.
func nonCanonicalLen(seg string) string {
	for len(seg)%4 != 1 {
		seg += "A"
	}
	return seg
}
