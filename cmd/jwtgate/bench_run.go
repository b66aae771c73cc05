package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/loadgen"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// benchAudience is the audience of the tokens jwtgate is benchmarked with.
const benchAudience = "jwtgate-bench"

// benchRun is one `jwtgate bench http`.
type benchRun struct {
	settings         benchSettings
	mix              []mixWeight
	alg              engine.Alg
	key              *sign.Key // --url mode: signs the tokens
	issuer, audience string    // --url mode: claims of the tokens
	stderr           io.Writer
}

// progressThreshold: runs at least this long print progress lines.
const progressThreshold = 3 * time.Second

// target is the server measured against the ceiling.
type target struct {
	name, url string
	events    []loadgen.Event // for the first round
	tokens    tokenSet
	close     func() error
}

// startTarget starts jwtgate (or prepares --url) and makes the tokens.
func (b *benchRun) startTarget(ctx context.Context, report *benchReport) (*target, error) {
	if b.settings.URL != "" {
		unknown, err := sign.Generate(b.alg, "bench-unknown")
		if err != nil {
			return nil, err
		}
		tokens, err := makeTokens(b.key, unknown, b.tokenSpec(b.issuer, b.audience), time.Now())
		if err != nil {
			return nil, err
		}
		return &target{name: "target", url: b.settings.URL, tokens: tokens, close: func() error { return nil }}, nil
	}
	keys, err := generateBenchKeys(b.alg)
	if err != nil {
		return nil, err
	}
	idp, err := startJWKSServer(keys.current)
	if err != nil {
		return nil, err
	}
	spec := b.tokenSpec(idp.URL, benchAudience)
	tokens, err := makeTokens(keys.current, keys.unknown, spec, time.Now())
	if err != nil {
		idp.Close()
		return nil, err
	}
	var events []loadgen.Event
	if b.settings.RotateAt > 0 {
		rotated, err := makeTokens(keys.next, keys.unknown, spec, time.Now())
		if err != nil {
			idp.Close()
			return nil, err
		}
		events = append(events, loadgen.Event{Name: "rotate key", At: b.settings.RotateAt, Do: func(c *loadgen.Control) {
			idp.publish(keys.next)
			for class, toks := range rotated {
				if class != classUnknownKid {
					c.SetTokens(class, toks) // a class not in the mix reports an error: nothing to change
				}
			}
		}})
	}
	gate, err := startJWTGate(ctx, idp.URL, idp.URL+jwksPath, benchAudience, b.alg.String(), b.settings.Cooldown, b.stderr)
	if err != nil {
		idp.Close()
		return nil, fmt.Errorf("starting jwtgate: %w", err)
	}
	return &target{name: "jwtgate", url: gate.url, events: events, tokens: tokens, close: func() error {
		err := gate.Close()
		report.JWKSFetches = idp.fetches.Load()
		return errors.Join(err, idp.Close())
	}}, nil
}

// run measures the ceiling and the target in alternating rounds and
// returns the report.
func (b *benchRun) run(ctx context.Context) (report *benchReport, err error) {
	report = &benchReport{Time: time.Now().UTC(), Machine: currentMachine(), Settings: b.settings}
	fmt.Fprintf(b.stderr, "jwtgate bench http: %s tokens, mix %s, %d connections, %d round(s) of %v per server after %v warmup\n",
		b.settings.Alg, b.settings.Mix, b.settings.Concurrency, b.settings.Rounds, b.settings.Duration, b.settings.Warmup)
	tgt, err := b.startTarget(ctx, report)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, tgt.close()) }()
	ceiling, err := loadgen.StartCeiling()
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ceiling.Close()) }()

	var bases, targets []*loadgen.Result
	for round := 1; round <= b.settings.Rounds; round++ {
		if b.settings.Rounds > 1 {
			fmt.Fprintf(b.stderr, "round %d of %d\n", round, b.settings.Rounds)
		}
		base, err := loadgen.Run(ctx, b.loadConfig("ceiling", ceiling.URL+"/auth", tgt.tokens, false, nil))
		if err != nil {
			return nil, fmt.Errorf("ceiling: %w", err)
		}
		var events []loadgen.Event
		if round == 1 {
			events = tgt.events
		}
		res, err := loadgen.Run(ctx, b.loadConfig(tgt.name, tgt.url, tgt.tokens, true, events))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tgt.name, err)
		}
		bases, targets = append(bases, base), append(targets, res)
		report.Rounds = append(report.Rounds, roundFigures{Ceiling: base.RPS, Target: res.RPS, CeilingCPU: base.CPUPerRequest(), TargetCPU: res.CPUPerRequest()})
	}
	base, res := loadgen.Merge(bases...), loadgen.Merge(targets...)
	report.Results = []*loadgen.Result{base, res}
	if base.RPS > 0 {
		report.RatioToCeiling = res.RPS / base.RPS
	}
	if cpu := res.CPUPerRequest(); cpu > 0 {
		report.CPURatio = float64(base.CPUPerRequest()) / float64(cpu)
	}
	return report, nil
}

func (b *benchRun) tokenSpec(issuer, audience string) tokenSpec {
	return tokenSpec{
		issuer:   issuer,
		audience: audience,
		distinct: b.settings.Distinct,
		// Valid for the whole run, however long.
		lifetime: b.settings.Warmup + b.settings.Duration + time.Hour,
	}
}

// loadConfig builds the load of one server. checked says whether the
// server verifies tokens (expect 401 for the failing classes) or answers
// 200 to everything (the ceiling).
func (b *benchRun) loadConfig(name, url string, tokens tokenSet, checked bool, events []loadgen.Event) loadgen.Config {
	cfg := loadgen.Config{
		Name:        name,
		URL:         url,
		Concurrency: b.settings.Concurrency,
		Duration:    b.settings.Duration,
		Warmup:      b.settings.Warmup,
		Timeout:     b.settings.Timeout,
		Events:      events,
	}
	for _, m := range b.mix {
		expect := 200
		if checked && m.class != classValid {
			expect = 401
		}
		cfg.Mix = append(cfg.Mix, loadgen.Class{Name: m.class, Weight: m.weight, Tokens: tokens[m.class], Expect: expect})
	}
	if b.settings.Warmup+b.settings.Duration >= progressThreshold {
		cfg.Progress = b.stderr
	}
	return cfg
}
