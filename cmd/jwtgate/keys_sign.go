package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/sign"
)

const signAbout = `
Signs a token with the private JWK in FILE (as written by 'jwtgate keys
generate') and prints the compact JWS. For demos, tests and load runs.

Claims start from --claims (a JSON object, default {}); --sub, --iss, --aud,
--scope, --jti, --exp, --nbf and --iat then set their claim. Unless the
claims already have them, iat is set to now and exp to now + --exp (1h).
--exp 0 omits exp; a negative --exp makes an expired token.

The header is {"alg", "typ":"JWT", "kid"} from the key; members of --header
replace them (alg too, to build hostile tokens: the signature always uses the
key's algorithm), and a member set to null is removed.`

// maxKeyFile bounds the private JWK file read by --key.
const maxKeyFile = 1 << 20

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func runKeysSign(args []string, stdout, stderr io.Writer) int {
	f := newFlags("keys sign", "--key FILE [--claims JSON] [--sub S] [--iss I] [--aud A]... [--exp D] [--scope S] [--header JSON]", signAbout, stderr)
	keyFile := f.String("key", "", "private JWK `FILE` (required)")
	claimsJSON := f.String("claims", "", "claims as a JSON object")
	headerJSON := f.String("header", "", "header members as a JSON object; null removes one")
	sub := f.String("sub", "", "subject claim")
	iss := f.String("iss", "", "issuer claim")
	var aud stringList
	f.Var(&aud, "aud", "audience claim; repeat for several (then aud is an array)")
	scope := f.String("scope", "", "scope claim (space-separated scopes)")
	jti := f.String("jti", "", "token ID claim")
	exp := f.Duration("exp", time.Hour, "lifetime: exp = now + `DURATION`; 0 omits exp, negative expires it")
	nbf := f.Duration("nbf", 0, "not-before: nbf = now + `DURATION` (set only when given)")
	iat := f.Bool("iat", true, "set iat to now (when the claims lack it)")
	pos, code, stop := f.parse(args, stdout)
	if stop {
		return code
	}
	if len(pos) > 0 {
		return f.usageErr("unexpected argument %q", pos[0])
	}
	if *keyFile == "" {
		return f.usageErr("--key is required: a private JWK file (see 'jwtgate keys generate')")
	}
	key, err := readPrivateJWK(*keyFile)
	if err != nil {
		return f.usageErr("--key %s: %v", *keyFile, err)
	}
	claims, err := jsonObject(*claimsJSON)
	if err != nil {
		return f.usageErr("--claims: %v", err)
	}
	header, err := jsonObject(*headerJSON)
	if err != nil {
		return f.usageErr("--header: %v", err)
	}
	set := f.setFlags()
	now := time.Now()
	for name, value := range map[string]string{"sub": *sub, "iss": *iss, "scope": *scope, "jti": *jti} {
		if set[name] {
			claims[name] = value
		}
	}
	switch {
	case len(aud) == 1:
		claims["aud"] = aud[0]
	case len(aud) > 1:
		claims["aud"] = []string(aud)
	}
	if _, has := claims["iat"]; (*iat && !has) || (set["iat"] && *iat) {
		claims["iat"] = now.Unix()
	}
	if _, has := claims["exp"]; set["exp"] || !has {
		if *exp == 0 {
			delete(claims, "exp")
		} else {
			claims["exp"] = now.Add(*exp).Unix()
		}
	}
	if set["nbf"] {
		claims["nbf"] = now.Add(*nbf).Unix()
	}
	fullHeader := map[string]any{}
	for k, v := range key.Header() {
		fullHeader[k] = v
	}
	for k, v := range header {
		if v == nil {
			delete(fullHeader, k)
		} else {
			fullHeader[k] = v
		}
	}
	h, err := json.Marshal(fullHeader)
	if err != nil {
		return f.usageErr("--header: %v", err)
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return f.usageErr("--claims: %v", err)
	}
	token, err := key.SignRaw(h, p)
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate keys sign: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, token)
	return exitOK
}

// readPrivateJWK reads and parses a private JWK file of at most maxKeyFile bytes.
func readPrivateJWK(path string) (*sign.Key, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("larger than %d bytes", maxKeyFile)
	}
	if err := notPrivateJWK(data); err != nil {
		return nil, err
	}
	return sign.ParsePrivateJWK(data)
}

// errNeedPrivateJWK ends the errors of a key file that cannot sign.
const errNeedPrivateJWK = "--key needs the private JWK that 'jwtgate keys generate' wrote with --out-private (or printed first, without it)"

// notPrivateJWK reports a key file that is a public key set or a public JWK,
// the documents 'jwtgate keys generate' writes beside the private JWK.
func notPrivateJWK(data []byte) error {
	var doc map[string]json.RawMessage
	if json.Unmarshal(data, &doc) != nil {
		return nil // ParsePrivateJWK says what is wrong
	}
	if _, ok := doc["keys"]; ok {
		return errors.New(`this is a public key set (a JWKS, {"keys":[...]}), which verifies but cannot sign: ` + errNeedPrivateJWK)
	}
	var kty string
	json.Unmarshal(doc["kty"], &kty)
	if _, private := doc["d"]; !private && kty != "oct" && kty != "" {
		return errors.New(`this is a public JWK (it has no private member "d"), which verifies but cannot sign: ` + errNeedPrivateJWK)
	}
	return nil
}

// jsonObject decodes s as one JSON object ("" is the empty object), keeping
// numbers exactly as written.
func jsonObject(s string) (map[string]any, error) {
	obj := map[string]any{}
	if strings.TrimSpace(s) == "" {
		return obj, nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, errors.New("must be a JSON object")
		}
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if obj == nil {
		return nil, errors.New("must be a JSON object, not null")
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return nil, errors.New("has data after the JSON object")
	}
	return obj, nil
}
