package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/jwtgate/jwtgate/bench"
)

// reportInfo is everything RESULTS.md states besides the numbers.
type reportInfo struct {
	command   string // the exact command that made the report
	goTest    string // the go test command of one round
	rounds    int
	benchtime string
	quick     bool
	chart     string // chart file name, relative to the report
	machine   machine
}

// writeReport writes RESULTS.md: how it was made, then a table per algorithm.
func writeReport(w io.Writer, m *measurements, info reportInfo) error {
	p := &printer{w: w}
	cpu := m.hasCPU()
	basis := "wall time per verification (ns/op)"
	if cpu {
		basis = "CPU time per verification (CPU ns/op)"
	}
	p.line("# jwtgate verification benchmarks")
	p.line("")
	if info.quick {
		p.line("> **Quick mode**: one short round to prove the harness runs. These numbers are not a measurement.")
		p.line("")
	}
	p.line("Every library verifies the same tokens (a realistic access token: iss, sub, aud, exp, nbf, iat, jti, scope),")
	p.line("with keys from the same JWKS looked up by kid (the public keys in one set, the HS256 secret in another with")
	p.line("its own issuer: jwtgate refuses a set that mixes them), and the same checks: signature with the algorithm bound to")
	p.line("the key, iss, aud, exp (required), nbf and iat, with 30 s leeway. Before it is timed, every library is shown")
	p.line("to accept the valid token and reject tampered, wrong-iss, other-set-iss, wrong-aud, expired, exp-less, not-yet-valid,")
	p.line("issued-in-the-future, unknown-kid, alg-none, alg-confusion and alg-mismatch tokens (`go test` in bench/ checks")
	p.line("the same), so none can look fast by checking less.")
	p.line("")
	p.line("- **jwtgate**: `engine.Verifier` with the verified-token cache off, keys from `keystore` (the JWKS parsed once): parse, key lookup, signature, claims, every call.")
	p.line("- **jwtgate-cached**: jwtgate as it ships, cache on, the same token again (exp, nbf and key are re-checked on every hit).")
	p.line("- **golang-jwt**: golang-jwt v5 `Parser.Parse` with keyfunc v3 over the JWKS (`keyfunc.NewJWKSetJSON`), `jwt.MapClaims`.")
	p.line("- **jwx**: lestrrat-go/jwx v3 `jwt.Parse` with `jwt.WithKeySet` and validation.")
	p.line("- **go-jose**: go-jose v4 `jwt.ParseSigned`, key by kid from the `JSONWebKeySet`, `Claims`, `ValidateWithLeeway`.")
	p.line("- **stdlib**: the bare standard-library primitive: hash and signature check of the already decoded signing input")
	p.line("  (for HS256 a reused MAC); no parsing, no key lookup, no claims. Nothing that checks the signature can be faster; the gap to it is overhead.")
	p.line("")
	p.line("How to read the ratios: each is this library's median %s divided by the reference's.", basis)
	p.line("**vs golang-jwt** below 1 is faster than golang-jwt (0.50× is twice as fast); **vs stdlib** is the cost of")
	p.line("everything around the cryptography (1.05× is 5%% overhead). jwtgate-cached can be far below 1× stdlib: a cache hit")
	p.line("does no cryptography. Ratios within one run are what to compare: absolute times move with the machine.")
	if cpu {
		p.line("")
		p.line("Why CPU time: each benchmark also reports the CPU time the whole process spent per verification (user + system,")
		p.line("garbage collection on the other core included). That is what a gateway at capacity pays per token, and it")
		p.line("barely moves when other work shares the cores, while wall time on a busy machine can swing tenfold. On an")
		p.line("idle machine the two agree, except that wall time hides the GC work done on the second core by the libraries")
		p.line("that allocate. Wall ns/op is in the tables too, and benchstat.txt has both.")
	}
	p.line("")
	if info.chart != "" {
		p.line("![%s per algorithm and library, log scale](%s)", basis, info.chart)
		p.line("")
	}

	p.line("## Summary: median %s", basis)
	p.line("")
	p.printf("| algorithm |")
	for _, lib := range m.libs {
		p.printf(" %s |", lib)
	}
	p.line("")
	p.printf("|---|")
	for range m.libs {
		p.printf("---:|")
	}
	p.line("")
	for _, alg := range m.algs {
		p.printf("| %s |", alg)
		for _, lib := range m.libs {
			if s, ok := m.summarize(alg, lib); ok {
				p.printf(" %s |", formatNs(s.cost()))
			} else {
				p.printf(" – |")
			}
		}
		p.line("")
	}
	p.line("")
	p.line("%s", allocNote(m))
	p.line("")

	for _, alg := range m.algs {
		base, hasBase := m.summarize(alg, bench.BaselineLib)
		prim, hasPrim := m.summarize(alg, bench.PrimitiveLib)
		p.line("## %s", alg)
		p.line("")
		if cpu {
			p.line("| library | CPU ns/op | ± | wall ns/op | ± | B/op | allocs/op | vs golang-jwt | vs stdlib |")
			p.line("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		} else {
			p.line("| library | ns/op | ± | B/op | allocs/op | vs golang-jwt | vs stdlib |")
			p.line("|---|---:|---:|---:|---:|---:|---:|")
		}
		for _, lib := range m.libs {
			s, ok := m.summarize(alg, lib)
			if !ok {
				continue
			}
			name := lib
			if strings.HasPrefix(lib, "jwtgate") {
				name = "**" + lib + "**"
			}
			p.printf("| %s |", name)
			if cpu {
				p.printf(" %s | %s |", formatNs(s.cpu), formatPct(s.cpuSpread))
			}
			p.line(" %s | %s | %s | %s | %s | %s |", formatNs(s.ns), formatPct(s.spread),
				formatCount(s.bytes), formatCount(s.allocs),
				ratio(s.cost(), base.cost(), hasBase), ratio(s.cost(), prim.cost(), hasPrim))
		}
		p.line("")
	}

	p.line("## How this was made")
	p.line("")
	mc := info.machine
	p.line("| | |")
	p.line("|---|---|")
	p.line("| command | `%s` |", info.command)
	p.line("| runs | %s of `%s` from one compiled test binary, interleaved so that noise hits every library alike; the tables show medians, ± is half the range over the runs |", plural(info.rounds, "round"), info.goTest)
	if info.benchtime != "" {
		p.line("| benchtime | %s |", info.benchtime)
	}
	p.line("| date | %s |", mc.date.Format("2006-01-02 15:04 MST"))
	p.line("| CPU | %s, %d logical cores |", mc.cpu, mc.cores)
	p.line("| Go | %s |", mc.goVer)
	if mc.load != "" {
		p.line("| load average (1 min) | %s (with %d cores, a load above %d means other work shared them) |", mc.load, mc.cores, mc.cores)
	}
	if mc.kernel != "" {
		p.line("| kernel | Linux %s |", mc.kernel)
	}
	if mc.commit != "" {
		p.line("| jwtgate commit | %s |", mc.commit)
	}
	p.line("")
	p.line("| library | module | version |")
	p.line("|---|---|---|")
	for _, v := range mc.modules {
		p.line("| %s | %s | %s |", v.lib, v.path, v.version)
	}
	p.line("")
	p.line("Raw output: [raw.txt](raw.txt). Confidence intervals and significance against golang-jwt: [benchstat.txt](benchstat.txt).")
	return p.err
}

// allocNote says whether jwtgate (uncached) allocates more than the bare
// primitive for any algorithm: what it allocates beyond it is its own.
func allocNote(m *measurements) string {
	var over []string
	for _, alg := range m.algs {
		g, ok1 := m.summarize(alg, "jwtgate")
		s, ok2 := m.summarize(alg, bench.PrimitiveLib)
		if ok1 && ok2 && g.allocs > s.allocs {
			over = append(over, fmt.Sprintf("%s (%s vs %s allocs/op)", alg, formatCount(g.allocs), formatCount(s.allocs)))
		}
	}
	if len(over) > 0 {
		return "**jwtgate allocates more than the bare primitive** for " + strings.Join(over, ", ") + ": its hot path is meant to allocate nothing of its own."
	}
	return "jwtgate allocates no more than the bare primitive for any algorithm: the allocations left in its RSA and ECDSA rows are crypto/rsa's and crypto/ecdsa's own."
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// printer writes formatted text and remembers the first error.
type printer struct {
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) line(format string, args ...any) { p.printf(format+"\n", args...) }

// formatNs prints a duration in nanoseconds with three significant digits
// and a unit that keeps it short: 98.7 ns, 24.6 µs.
func formatNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return sig3(ns/1e6) + " ms"
	case ns >= 1e3:
		return sig3(ns/1e3) + " µs"
	}
	return sig3(ns) + " ns"
}

// sig3 prints x with three significant digits.
func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

func formatCount(x float64) string {
	if x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

func formatPct(x float64) string { return fmt.Sprintf("%.0f%%", x*100) }

// ratio prints ns/ref as "0.25×", or "–" without a reference.
func ratio(ns, ref float64, ok bool) string {
	if !ok || ref == 0 {
		return "–"
	}
	r := ns / ref
	if r < 0.1 {
		return fmt.Sprintf("%.3f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}
