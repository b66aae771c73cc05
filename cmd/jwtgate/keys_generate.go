package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

const generateAbout = `
Generates a fresh key for ALG and prints, one JSON document per line, the
private JWK and then the public JWKS {"keys":[...]} that verifies it. A
document written to a file with --out-private or --out-jwks is not printed.
RSA keys are 2048 bits; HS* secrets are as long as the hash output. An HS*
"public" JWKS holds the secret itself (kty "oct"): share it only with the
verifier.

The private JWK is what 'jwtgate keys sign --key' reads; the JWKS is what
'jwtgate verify --jwks' and 'jwtgate serve --jwks-file' read.`

// algNames lists the supported algorithms for help and error texts.
func algNames() string {
	var names []string
	for _, a := range engine.Algorithms() {
		names = append(names, a.String())
	}
	return strings.Join(names, ", ")
}

func runKeysGenerate(args []string, stdout, stderr io.Writer) int {
	f := newFlags("keys generate", "--alg ALG [--kid KID] [--out-private FILE] [--out-jwks FILE] [--force]", generateAbout, stderr)
	algName := f.String("alg", "", "signature algorithm (required): "+algNames())
	kid := f.String("kid", "", "key ID (default: the RFC 7638 JWK thumbprint of the key)")
	outPrivate := f.String("out-private", "", "write the private JWK to `FILE` (mode 0600) instead of stdout")
	outJWKS := f.String("out-jwks", "", "write the public JWKS to `FILE` (mode 0644) instead of stdout")
	force := f.Bool("force", false, "overwrite output files that exist")
	pos, code, stop := f.parse(args, stdout)
	if stop {
		return code
	}
	if len(pos) > 0 {
		return f.usageErr("unexpected argument %q", pos[0])
	}
	if *algName == "" {
		return f.usageErr("--alg is required: one of %s", algNames())
	}
	alg, ok := engine.ParseAlg(*algName)
	if !ok {
		return f.usageErr("--alg: unknown algorithm %q; one of %s", *algName, algNames())
	}
	key, err := sign.Generate(alg, *kid)
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate keys generate: %v\n", err)
		return exitFailure
	}
	if key.Kid == "" {
		key.Kid = thumbprint(key.PublicJWK())
	}
	private, err := json.Marshal(key.PrivateJWK())
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate keys generate: %v\n", err)
		return exitFailure
	}
	jwks := sign.JWKS(key)
	outputs := []struct {
		flag, path string
		data       []byte
		perm       fs.FileMode
	}{
		{"--out-private", *outPrivate, private, 0o600},
		{"--out-jwks", *outJWKS, jwks, 0o644},
	}
	// Files first: a failure then prints no key material at all.
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		if err := writeNewFile(o.path, append(o.data, '\n'), o.perm, *force); err != nil {
			fmt.Fprintf(stderr, "jwtgate keys generate: %s %s: %v\n", o.flag, o.path, err)
			return exitFailure
		}
	}
	for _, o := range outputs {
		if o.path == "" {
			fmt.Fprintf(stdout, "%s\n", o.data)
		}
	}
	return exitOK
}

// writeNewFile writes data to path with perm. Unless force is set it refuses
// to replace an existing file, so that a private key is never clobbered by
// accident.
func writeNewFile(path string, data []byte, perm fs.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags |= os.O_EXCL
	}
	file, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		return errors.New("file exists (use --force to replace it)")
	}
	if err != nil {
		return err
	}
	if _, err := file.Write(data); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

// thumbprint returns the RFC 7638 JWK thumbprint (SHA-256, base64url) of a
// public JWK: the hash of its required members in lexicographic order.
func thumbprint(j sign.JWK) string {
	var members [][2]string
	switch j.Kty {
	case "RSA":
		members = [][2]string{{"e", j.E}, {"kty", j.Kty}, {"n", j.N}}
	case "EC":
		members = [][2]string{{"crv", j.Crv}, {"kty", j.Kty}, {"x", j.X}, {"y", j.Y}}
	case "OKP":
		members = [][2]string{{"crv", j.Crv}, {"kty", j.Kty}, {"x", j.X}}
	case "oct":
		members = [][2]string{{"k", j.K}, {"kty", j.Kty}}
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		// Every member value is base64url or a fixed name: no escaping needed.
		fmt.Fprintf(&b, "%q:%q", m[0], m[1])
	}
	b.WriteByte('}')
	sum := sha256.Sum256([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
