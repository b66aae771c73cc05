package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/loadgen"
)

func init() {
	register(command{
		name:    "bench",
		summary: "measure jwtgate's HTTP throughput against a bare fasthttp ceiling, or gRPC ext_authz against HTTP /auth",
		run:     runBench,
	})
}

func runBench(args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "Usage: jwtgate bench http [flags]")
		fmt.Fprintln(w, "       jwtgate bench grpc [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Run 'jwtgate bench http --help' or 'jwtgate bench grpc --help' for their flags.")
	}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "http":
		return runBenchHTTP(args[1:], stdout, stderr)
	case "grpc":
		return runBenchGRPC(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "jwtgate bench: unknown subcommand %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

const benchHTTPAbout = `
Drives HTTP servers over loopback with fasthttp's client: --concurrency
workers, each on its own connection, send requests back to back for
--duration (after an unrecorded --warmup), each carrying a bearer token
drawn from --mix:

  valid        signed by the current key, for the right issuer and audience (expect 200)
  invalid      a valid token with a corrupted signature (expect 401)
  unknown_kid  signed by a key the server does not know (expect 401)
  expired      correctly signed, expired an hour ago (expect 401)

Without --url it starts, in this process, the ceiling (a bare fasthttp
handler answering 200 to everything: the fastest a fasthttp server can be
here) and jwtgate's server, configured like demo mode but fetching its keys
from a loopback JWKS endpoint, and runs the same load on each, one after the
other. It prints requests/s and latency percentiles side by side, with each
one's requests/s as a share of the ceiling's. --distinct valid tokens are
sent in turn, so after the warmup jwtgate answers them from its token cache.

--rotate-at D replaces the key at D into the run: the JWKS endpoint then
serves only the next key and the valid, invalid and expired tokens are
signed by it; jwtgate learns the new key by its unknown-kid refetch, limited
to one per --cooldown (serve's default is 30s: with constant unknown_kid
traffic a rotation can then be seen only when the cooldown ends).

With --url it measures that URL (and the ceiling) instead, with tokens signed
by --key (a private JWK, as from 'jwtgate keys generate') for --issuer and
--audience.

Both servers share the machine with the load generator: compare the ratio,
not the absolute figures, between machines. Besides requests/s the table
shows the process CPU time per request (load generator and server together)
and the ceiling's as a share of it: the throughput ratio to expect where CPU
is the limit, which other processes on a shared machine barely disturb. On a
noisy machine also use --rounds:
the two servers are then measured in turn N times and each one's rounds add
up, so that a disturbance hits both alike. Progress goes to stderr; --out DIR
writes http.json and http.md there.`

// benchSettings are the parameters of a bench http run, as reported.
type benchSettings struct {
	URL         string        `json:"url,omitempty"`
	Alg         string        `json:"alg"`
	Mix         string        `json:"mix"`
	Concurrency int           `json:"concurrency"`
	Rounds      int           `json:"rounds"`
	Duration    time.Duration `json:"duration_ns"`
	Warmup      time.Duration `json:"warmup_ns"`
	RotateAt    time.Duration `json:"rotate_at_ns,omitempty"`
	Distinct    int           `json:"distinct_tokens"`
	Cooldown    time.Duration `json:"cooldown_ns,omitempty"`
	Timeout     time.Duration `json:"timeout_ns"`
}

func runBenchHTTP(args []string, stdout, stderr io.Writer) int {
	f := newFlags("bench http", "[--url URL --key FILE] [--concurrency N] [--duration D] [--rounds N] [--mix SPEC] [--rotate-at D] [--out DIR]", benchHTTPAbout, stderr)
	url := f.String("url", "", "measure this `URL` instead of starting jwtgate (needs --key)")
	keyFile := f.String("key", "", "private JWK `FILE` signing the tokens for --url")
	issuer := f.String("issuer", "", "\"iss\" of the tokens for --url")
	audience := f.String("audience", "", "\"aud\" of the tokens for --url")
	concurrency := f.Int("concurrency", 64, "`N` concurrent connections (one per worker)")
	duration := f.Duration("duration", 10*time.Second, "measured run time per server and round")
	rounds := f.Int("rounds", 1, "alternate ceiling and server runs `N` times; the results add up")
	warmup := f.Duration("warmup", 2*time.Second, "unrecorded load before each measurement")
	mixSpec := f.String("mix", defaultMix, "token mix `CLASS=WEIGHT,...`; classes: valid, invalid, unknown_kid, expired")
	rotateAt := f.Duration("rotate-at", 0, "rotate jwtgate's signing key this long into the measured run (0: no rotation)")
	algName := f.String("alg", "ES256", "signing algorithm of jwtgate's keys: "+algNames())
	distinct := f.Int("distinct", 1000, "distinct valid tokens, sent in turn")
	cooldown := f.Duration("cooldown", time.Second, "jwtgate's unknown-kid refetch cooldown")
	timeout := f.Duration("timeout", loadgen.DefaultTimeout, "per-request timeout")
	outDir := f.String("out", "", "write http.json and http.md to `DIR`")
	pos, code, stop := f.parse(args, stdout)
	if stop {
		return code
	}
	if len(pos) > 0 {
		return f.usageErr("unexpected argument %q", pos[0])
	}
	set := f.setFlags()
	switch {
	case *concurrency < 1 || *concurrency > loadgen.MaxConcurrency:
		return f.usageErr("--concurrency must be 1 to %d, got %d", loadgen.MaxConcurrency, *concurrency)
	case *rounds < 1 || *rounds > 100:
		return f.usageErr("--rounds must be 1 to 100, got %d", *rounds)
	case *rotateAt > 0 && *rounds > 1:
		return f.usageErr("--rotate-at needs --rounds 1: later rounds would send the tokens of the removed key")
	case *duration <= 0:
		return f.usageErr("--duration must be positive, got %v", *duration)
	case *warmup < 0:
		return f.usageErr("--warmup must not be negative, got %v", *warmup)
	case *rotateAt < 0 || *rotateAt > 0 && *rotateAt >= *duration:
		return f.usageErr("--rotate-at must be between 0 and --duration (%v), got %v", *duration, *rotateAt)
	case *distinct < 1 || *distinct > 1000000:
		return f.usageErr("--distinct must be 1 to 1000000, got %d", *distinct)
	case *cooldown <= 0:
		return f.usageErr("--cooldown must be positive, got %v", *cooldown)
	case *timeout <= 0:
		return f.usageErr("--timeout must be positive, got %v", *timeout)
	}
	mix, err := parseMix(*mixSpec)
	if err != nil {
		return f.usageErr("--mix: %v", err)
	}
	alg, ok := engine.ParseAlg(*algName)
	if !ok {
		return f.usageErr("--alg: unknown algorithm %q; one of %s", *algName, algNames())
	}
	if *url == "" {
		for _, name := range []string{"key", "issuer", "audience"} {
			if set[name] {
				return f.usageErr("--%s applies only with --url", name)
			}
		}
	} else {
		if *keyFile == "" {
			return f.usageErr("--url needs --key: the private JWK that signs tokens the target accepts")
		}
		if *rotateAt > 0 {
			return f.usageErr("--rotate-at needs jwtgate started here: it cannot rotate the keys of --url")
		}
		for _, name := range []string{"alg", "cooldown"} {
			if set[name] {
				return f.usageErr("--%s applies only without --url", name)
			}
		}
	}

	b := &benchRun{
		settings: benchSettings{
			URL: *url, Alg: alg.String(), Mix: formatMix(mix), Concurrency: *concurrency,
			Rounds: *rounds, Duration: *duration, Warmup: *warmup, RotateAt: *rotateAt, Distinct: *distinct,
			Timeout: *timeout,
		},
		mix: mix, alg: alg, issuer: *issuer, audience: *audience, stderr: stderr,
	}
	if *url == "" {
		b.settings.Cooldown = *cooldown
	} else {
		key, err := readPrivateJWK(*keyFile)
		if err != nil {
			return f.usageErr("--key %s: %v", *keyFile, err)
		}
		b.key, b.alg, b.settings.Alg = key, key.Alg, key.Alg.String()
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return f.usageErr("--out %s: %v", *outDir, err)
		}
	}

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stopSignals()
	report, err := b.run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "jwtgate bench http: %v\n", err)
		return exitFailure
	}
	report.Command = commandLine(append([]string{"jwtgate", "bench", "http"}, args...))
	if err := report.writeText(stdout); err != nil {
		fmt.Fprintf(stderr, "jwtgate bench http: %v\n", err)
		return exitFailure
	}
	if *outDir != "" {
		if err := report.writeFiles(*outDir); err != nil {
			fmt.Fprintf(stderr, "jwtgate bench http: --out %s: %v\n", *outDir, err)
			return exitFailure
		}
		fmt.Fprintf(stderr, "wrote %s and %s\n", report.jsonPath(*outDir), report.mdPath(*outDir))
	}
	return exitOK
}
