// Package loadgen drives an HTTP endpoint with a weighted mix of bearer
// tokens from many connections at once, on fasthttp's client, and measures
// what it answers: requests per second, a latency histogram (p50 to max),
// status codes per kind of token and every status that was not the expected
// one. Events fire at chosen points of a run (for instance a key rotation).
//
// It is a closed-loop generator, like wrk: each of Concurrency workers sends
// its next request as soon as the previous one is answered, so the latencies
// describe a saturated server, not one at a fixed arrival rate.
package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// Class is one kind of request in the mix, such as valid tokens or expired
// ones.
type Class struct {
	// Name identifies the class in results ("valid", "expired", ...).
	Name string
	// Weight is the class's share of requests relative to the other
	// classes' weights. It must be positive.
	Weight int
	// Tokens are sent in turn as "Authorization: Bearer <token>". With no
	// tokens the request carries no Authorization header.
	Tokens [][]byte
	// Expect is the status every answer should have; 0 means 200. Other
	// statuses are counted as unexpected.
	Expect int
}

// Event is a callback fired once during the measured part of a run.
type Event struct {
	// Name identifies the event in results.
	Name string
	// At fires the event this long after measurement started (duration
	// runs), or AfterRequests fires it when that many measured requests have
	// been started (request-count runs); exactly one must be set. At must be
	// less than the Duration. An event fires late rather than not at all
	// while requests are still in flight; one whose moment comes after the
	// last request has been answered does not fire.
	At            time.Duration
	AfterRequests uint64
	// Do runs the event. The load goes on meanwhile (a request-count event
	// holds up only the worker that reached it). Do may change the mix with
	// the Control.
	Do func(*Control)
}

// Config describes a load run.
type Config struct {
	// Name labels the result, e.g. "ceiling" or "jwtgate".
	Name string
	// URL is the http:// or https:// URL every request goes to.
	URL string
	// Method is the HTTP method; "" means GET.
	Method string
	// Concurrency is the number of workers, each with its own connection.
	Concurrency int
	// Duration is how long to measure; or Requests, how many requests to
	// send. Exactly one must be set.
	Duration time.Duration
	Requests uint64
	// Warmup runs the same load this long before measuring, unrecorded
	// (to open connections and fill caches).
	Warmup time.Duration
	// Mix lists the classes of requests. Empty means one class "default"
	// with no token, expecting 200.
	Mix []Class
	// Events fire during the measured part of the run.
	Events []Event
	// Timeout bounds each request's write and read; 0 means 5s.
	Timeout time.Duration
	// Progress, if set, receives a line every ProgressEvery (default 1s)
	// during long runs: elapsed time, requests and the current rate.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Send, if set, sends each request instead of the HTTP client — for
	// another transport, such as gRPC; URL (any scheme) then only labels
	// the result. It is called by worker (0 to Concurrency-1) with the
	// request's token (nil: none) and returns the HTTP status the answer
	// stands for, or a transport error. It must be safe for concurrent
	// use by different workers.
	Send func(worker int, token []byte) (status int, err error)
}

// DefaultTimeout bounds each request when Config.Timeout is 0.
const DefaultTimeout = 5 * time.Second

// MaxConcurrency bounds Config.Concurrency.
const MaxConcurrency = 1 << 14

// MaxWeight bounds the sum of the Mix weights (and so the length of the
// cycle that interleaves the classes).
const MaxWeight = 1 << 20

// maxClasses bounds the number of Mix classes.
const maxClasses = 64

// ErrConfig is returned (wrapped, naming the field) for an unusable Config.
var ErrConfig = errors.New("invalid load config")

func configErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
}

// validate checks cfg and returns the parsed URL and the mix to use.
func (cfg *Config) validate() (*url.URL, []Class, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, nil, configErr("URL: %v", err)
	}
	if cfg.Send != nil {
		if u.Host == "" {
			return nil, nil, configErr("URL %q has no host", cfg.URL)
		}
	} else if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, configErr("URL %q: scheme must be http or https", cfg.URL)
	}
	if u.Host == "" {
		return nil, nil, configErr("URL %q has no host", cfg.URL)
	}
	if cfg.Concurrency < 1 || cfg.Concurrency > MaxConcurrency {
		return nil, nil, configErr("Concurrency must be 1 to %d, got %d", MaxConcurrency, cfg.Concurrency)
	}
	if (cfg.Duration > 0) == (cfg.Requests > 0) {
		return nil, nil, configErr("set exactly one of Duration and Requests")
	}
	if cfg.Duration < 0 || cfg.Warmup < 0 || cfg.Timeout < 0 || cfg.ProgressEvery < 0 {
		return nil, nil, configErr("durations must not be negative")
	}
	mix := cfg.Mix
	if len(mix) == 0 {
		mix = []Class{{Name: "default", Weight: 1}}
	}
	if len(mix) > maxClasses {
		return nil, nil, configErr("at most %d Mix classes", maxClasses)
	}
	names := map[string]bool{}
	totalWeight := 0
	for _, c := range mix {
		if c.Name == "" {
			return nil, nil, configErr("every Mix class needs a Name")
		}
		if names[c.Name] {
			return nil, nil, configErr("Mix class %q appears twice", c.Name)
		}
		names[c.Name] = true
		if c.Weight <= 0 || c.Weight > MaxWeight {
			return nil, nil, configErr("Mix class %q: Weight must be 1 to %d, got %d", c.Name, MaxWeight, c.Weight)
		}
		totalWeight += c.Weight
		if c.Expect != 0 && (c.Expect < 100 || c.Expect > 599) {
			return nil, nil, configErr("Mix class %q: Expect %d is not an HTTP status", c.Name, c.Expect)
		}
	}
	if totalWeight > MaxWeight {
		return nil, nil, configErr("the Mix weights add up to %d, more than %d", totalWeight, MaxWeight)
	}
	for _, e := range cfg.Events {
		if e.Do == nil {
			return nil, nil, configErr("event %q has no Do", e.Name)
		}
		if (e.At > 0) == (e.AfterRequests > 0) {
			return nil, nil, configErr("event %q: set exactly one of At and AfterRequests", e.Name)
		}
		if e.At > 0 && cfg.Duration == 0 {
			return nil, nil, configErr("event %q: At needs a Duration run", e.Name)
		}
		if e.At >= cfg.Duration && cfg.Duration > 0 {
			return nil, nil, configErr("event %q: At %v is not within the Duration %v", e.Name, e.At, cfg.Duration)
		}
		if e.AfterRequests > 0 && cfg.Requests == 0 {
			return nil, nil, configErr("event %q: AfterRequests needs a Requests run", e.Name)
		}
	}
	return u, mix, nil
}

// schedule spreads the classes over a cycle of sum(weights)/gcd slots,
// interleaved by smooth weighted round robin, so that any window of the
// cycle holds each class close to its share.
func schedule(mix []Class) []uint16 {
	g := 0
	for _, c := range mix {
		g = gcd(g, c.Weight)
	}
	total := 0
	weights := make([]int, len(mix))
	for i, c := range mix {
		weights[i] = c.Weight / g
		total += weights[i]
	}
	current := make([]int, len(mix))
	out := make([]uint16, 0, total)
	for range total {
		best := 0
		for i := range mix {
			current[i] += weights[i]
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		out = append(out, uint16(best))
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
