package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

func init() {
	register(command{
		name:    "verify",
		summary: "verify tokens from the command line or standard input",
		run: func(args []string, stdout, stderr io.Writer) int {
			return runVerify(args, os.Stdin, stdout, stderr)
		},
	})
}

const verifyAbout = `
Verifies TOKEN, or without it one token per line of standard input (spaces
and CR/LF around a token are ignored; tokens are at most --max-token-size
bytes, 16 KiB by default). Prints exactly one JSON object per input line, in
input order, so that the Nth output line is the verdict on the Nth input line:

  {"valid":true,"header":{...},"claims":{...}}
  {"valid":false,"error":"invalid_token","reason":"expired","description":"token has expired"}

A blank line is {"valid":false,...,"reason":"empty",...}. Pass the token
alone, without the "Bearer " of an Authorization header.

"error" is the RFC 6750 code a server would send, "reason" the stable
machine-readable cause. Exit status: 0 if every token is valid, 1 if any is
invalid (or standard input held no token), 2 for bad flags or an unusable
--jwks.

This is a debugging tool: without --issuer it accepts any issuer and without
--audience any audience (jwtgate serve always checks them); with --discovery
the issuer is the discovery URL unless --issuer names it. exp is still
required; the clock leeway is 30s; the keys' own algorithms decide (a token
cannot choose its algorithm).

--no-claims checks only the JWS: structure, header and signature. The payload
may then be any bytes; it is printed as the JSON string "payload" when it is
valid UTF-8, else base64url-encoded as "payload_base64url".

--summary prints only {"valid":N,"invalid":M}, for bulk runs.

Tokens from standard input are verified on every core (GOMAXPROCS), the
results still printed in input order; memory stays flat however many lines
the input has. A token seen again is answered from the verified-token cache;
distinct tokens are not cached.`

// verifyLineMax bounds one line of standard input, unless --max-token-size
// asks for more; longer lines are reported as too large without being held
// in memory.
const verifyLineMax = 64 << 10

// verifyLineSlack is what a line may hold beyond the largest token: the
// spaces and CR/LF around it.
const verifyLineSlack = 1 << 10

// jwksLoadTimeout bounds loading --jwks (fetching a URL).
const jwksLoadTimeout = 10 * time.Second

func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	f := newFlags("verify", "--jwks FILE|URL | --discovery URL [--issuer ISS] [--audience AUD] [--no-claims] [--summary] [TOKEN]", verifyAbout, stderr)
	jwks := f.String("jwks", "", "JWKS `FILE or URL` holding the verification keys (this or --discovery is required)")
	discovery := f.String("discovery", "", "find the keys by OpenID discovery at this issuer `URL`; without --issuer the issuer is the URL")
	var issuers, audiences stringList
	f.Var(&issuers, "issuer", "accepted \"iss\" `ISS`; repeat for several (default: any issuer)")
	f.Var(&audiences, "audience", "accepted \"aud\" `AUD`; repeat for several (default: any audience)")
	noClaims := f.Bool("no-claims", false, "check only the signature; the payload may be any bytes")
	summary := f.Bool("summary", false, "print only {\"valid\":N,\"invalid\":M}")
	maxSize := f.Int("max-token-size", engine.DefaultMaxTokenSize, "reject tokens longer than `BYTES` (serve: limits.max_token_bytes)")
	pos, code, stop := f.parse(args, stdout)
	if stop {
		return code
	}
	if len(pos) > 1 {
		return f.usageErr("takes at most one TOKEN argument, got %d (pass several on standard input, one per line)", len(pos))
	}
	if *jwks == "" && *discovery == "" {
		return f.usageErr("--jwks is required: a JWKS file or an http(s) URL (or --discovery with the issuer's URL)")
	}
	if *jwks != "" && *discovery != "" {
		return f.usageErr("give --jwks or --discovery, not both: discovery finds the JWKS itself")
	}
	keySource := keystore.Issuer{JWKSFile: *jwks}
	if isURL(*jwks) {
		keySource = keystore.Issuer{JWKSURL: *jwks}
	}
	sourceName := "--jwks " + describeSource(*jwks)
	if *discovery != "" {
		if !isURL(*discovery) {
			return f.usageErr("--discovery %q: must be the issuer's http(s) URL", *discovery)
		}
		if len(issuers) > 1 {
			return f.usageErr("--discovery checks the document against one issuer: give at most one --issuer")
		}
		if len(issuers) == 0 { // OpenID Connect Discovery §4: the document is at ISSUER/.well-known/openid-configuration
			issuers = stringList{config.DiscoveryIssuer(*discovery)}
		}
		keySource = keystore.Issuer{Issuer: issuers[0], Discovery: *discovery}
		sourceName = "--discovery " + *discovery
	}
	if *noClaims && (len(issuers) > 0 || len(audiences) > 0) {
		return f.usageErr("--no-claims checks no claim: it cannot be combined with --issuer or --audience")
	}
	if *maxSize < 1 || *maxSize > maxTokenSizeLimit {
		return f.usageErr("--max-token-size %d: must be between 1 and %d bytes", *maxSize, maxTokenSizeLimit)
	}

	if len(pos) == 0 && os.Getenv("GOGC") == "" { // from the start: the setup allocates as much as the run
		defer debug.SetGCPercent(debug.SetGCPercent(bulkGCPercent))
	}
	ctx, cancel := context.WithTimeout(context.Background(), jwksLoadTimeout)
	defer cancel()
	store, err := openKeys(ctx, keySource, stderr)
	if err != nil {
		return f.usageErr("%s: %v", sourceName, err)
	}
	defer store.Close()
	// The verifier for tokens seen for the first time has no cache: in bulk
	// runs most tokens are distinct, and caching each would cost memory and
	// allocations for nothing. A token seen again goes to a second verifier
	// with the cache, so that repeats skip the cryptography.
	clock := newBatchClock()
	cfg := engine.Config{
		Clock:        clock,
		Keys:         store,
		Issuers:      issuers,
		AnyIssuer:    len(issuers) == 0,
		Audiences:    audiences,
		AnyAudience:  len(audiences) == 0,
		MaxTokenSize: *maxSize,
		CacheEntries: -1,
		// The engine's refusal of a longer token names the flag.
		MaxTokenSizeSetting: "--max-token-size",
	}
	plain, err := engine.New(cfg)
	if err != nil {
		return f.usageErr("%v", err)
	}
	cfg.CacheEntries = 0
	cached, err := engine.New(cfg)
	if err != nil {
		return f.usageErr("%v", err)
	}

	out := bufio.NewWriterSize(stdout, 64<<10)
	r := newVerifyRun(plain, cached, out, *noClaims, *summary, *maxSize)
	r.clock = clock
	if len(pos) == 1 {
		r.verifyOne(bytes.TrimSpace([]byte(pos[0])))
	} else if err := r.verifyLines(stdin, runtime.GOMAXPROCS(0)); err != nil {
		fmt.Fprintf(stderr, "jwtgate verify: reading standard input: %v\n", err)
		return exitFailure
	}
	if r.summary {
		out.Write(r.w.summary(r.valid, r.invalid))
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "jwtgate verify: writing the results: %v\n", err)
		return exitFailure
	}
	if r.valid+r.invalid == 0 {
		fmt.Fprintln(stderr, "jwtgate verify: no token on standard input")
		return exitFailure
	}
	if r.invalid > 0 {
		return exitFailure
	}
	return exitOK
}

// bulkGCPercent is the garbage collector's GOGC when verify reads standard
// input, unless GOGC is set. The heap a bulk run keeps is small and does not
// grow with the number of tokens (the batches are recycled; distinct tokens
// are not cached), so letting it grow to five times its live size before a
// collection, instead of twice, costs a few MiB and saves most collections
// of a run, whose start-up already leaves about 4 MiB live.
const bulkGCPercent = 400

// maxTokenSizeLimit bounds --max-token-size: a line of standard input is
// held in memory whole.
const maxTokenSizeLimit = 16 << 20

// errBearer is a token pasted with the scheme of its Authorization header.
var errBearer = engine.ErrMalformed.Refine(`the token starts with "Bearer ": pass the token alone, without the Authorization header's scheme`)

// The verdict on a blank or whitespace-only input line: it has a line of
// its own, so that verdicts stay in step with the input.
const (
	emptyReason      = "empty"
	emptyDescription = "the line is blank: no token to verify"
)

// hasBearerPrefix reports whether token begins with the "Bearer " scheme of
// an Authorization header, in any case.
func hasBearerPrefix(token []byte) bool {
	const scheme = "bearer"
	return len(token) > len(scheme) && bytes.EqualFold(token[:len(scheme)], []byte(scheme)) &&
		(token[len(scheme)] == ' ' || token[len(scheme)] == '\t')
}

// skipLine discards the rest of an overlong line, up to and including its
// newline.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}
