// Command golangjwt-verify is the program a Go team would write today to
// check a file of tokens: golang-jwt v5 with keyfunc v3 looking the key up
// by kid in a JWKS file (keyfunc also refuses a token whose alg differs from
// the JWK's), one token per line of standard input, single-threaded, with
// the checks `jwtgate verify` makes: exp required, 30 s leeway, and the
// issuer and audience when given. It prints {"valid":N,"invalid":M} and
// exits 0 if every token is valid, 1 if not, 2 for usage errors.
//
// It is the peer of `jwtgate verify --summary` in the process-level
// comparison (cmd/clibench, make bench-cli):
//
//	golangjwt-verify --jwks jwks.json --issuer ISS --audience AUD < tokens.txt
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("golangjwt-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jwks := fs.String("jwks", "", "JWKS `FILE` holding the verification keys (required)")
	issuer := fs.String("issuer", "", "accepted \"iss\" `ISS` (default: any issuer)")
	audience := fs.String("audience", "", "accepted \"aud\" `AUD` (default: any audience)")
	if err := fs.Parse(args); err != nil || *jwks == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: golangjwt-verify --jwks FILE [--issuer ISS] [--audience AUD] < tokens")
		return 2
	}
	set, err := os.ReadFile(*jwks)
	if err != nil {
		fmt.Fprintf(stderr, "golangjwt-verify: %v\n", err)
		return 2
	}
	kf, err := keyfunc.NewJWKSetJSON(set)
	if err != nil {
		fmt.Fprintf(stderr, "golangjwt-verify: --jwks %s: %v\n", *jwks, err)
		return 2
	}
	opts := []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithLeeway(30 * time.Second)}
	if *issuer != "" {
		opts = append(opts, jwt.WithIssuer(*issuer))
	}
	if *audience != "" {
		opts = append(opts, jwt.WithAudience(*audience))
	}
	p := jwt.NewParser(opts...)

	var valid, invalid int
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for sc.Scan() {
		tok := bytes.TrimSpace(sc.Bytes())
		if _, err := p.Parse(string(tok), kf.Keyfunc); err != nil {
			invalid++
		} else {
			valid++
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(stderr, "golangjwt-verify: reading standard input: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "{\"valid\":%d,\"invalid\":%d}\n", valid, invalid)
	if invalid > 0 || valid == 0 {
		return 1
	}
	return 0
}
