package loadgen

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// maxConsecutiveErrors stops a worker whose requests keep failing without an
// answer (the server is gone), instead of spinning on connection errors.
const maxConsecutiveErrors = 100

var (
	authHeader   = []byte("Authorization")
	bearerPrefix = []byte("Bearer ")
)

// runner is one Run: the client, the mix and the template request.
type runner struct {
	cfg      Config
	client   *fasthttp.HostClient
	ctrl     *Control
	sched    []uint16
	template *fasthttp.Request
}

// Run sends the configured load and returns what it measured. It returns
// when the duration has passed or the requests have been sent and every
// worker and event has finished; cancelling ctx ends the run early (the
// partial result is returned with ctx's error). Transport errors are counted
// in the result, not returned: Run's error is about the configuration.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	u, mix, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.Method == "" {
		cfg.Method = fasthttp.MethodGet
	}
	r := &runner{
		cfg:      cfg,
		client:   newClient(u, cfg),
		ctrl:     newControl(mix),
		sched:    schedule(mix),
		template: fasthttp.AcquireRequest(),
	}
	defer fasthttp.ReleaseRequest(r.template)
	defer r.client.CloseIdleConnections()
	r.template.SetRequestURI(cfg.URL)
	r.template.Header.SetMethod(cfg.Method)

	if cfg.Warmup > 0 {
		r.phase(ctx, "warmup", cfg.Warmup, 0, nil)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	p := r.phase(ctx, cfg.Name, cfg.Duration, cfg.Requests, cfg.Events)
	return r.result(p, mix), ctx.Err()
}

func newClient(u *url.URL, cfg Config) *fasthttp.HostClient {
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return &fasthttp.HostClient{
		Addr:                      net.JoinHostPort(host, port),
		IsTLS:                     u.Scheme == "https",
		Name:                      "jwtgate-loadgen",
		MaxConns:                  cfg.Concurrency,
		ReadTimeout:               cfg.Timeout,
		WriteTimeout:              cfg.Timeout,
		MaxIdemponentCallAttempts: 1, // a failure is a result, not something to hide by retrying
		// The pool's cleaner goroutine exits this long after the last
		// connection closed; keep it short so a finished run leaves nothing.
		MaxIdleConnDuration: time.Second,
	}
}

// phase is one stretch of load: the warmup or the measured run.
type phase struct {
	name     string
	stop     atomic.Bool
	finished atomic.Bool   // every worker has returned
	seq      atomic.Uint64 // requests started, for request-count runs
	limit    uint64        // 0: run until stop
	byCount  map[uint64]*firedEvent
	start    time.Time
	elapsed  time.Duration
	cpu      time.Duration // process CPU time during the phase
	workers  []*workerStats
	events   []*firedEvent
	eventsWG sync.WaitGroup
	ctrl     *Control
}

// firedEvent is an Event and what happened to it.
type firedEvent struct {
	ev    Event
	once  sync.Once
	fired bool
	at    time.Duration // offset from the start of measurement
	took  time.Duration
}

// fire runs the event once, unless the phase has already finished.
func (p *phase) fire(f *firedEvent) {
	f.once.Do(func() {
		if p.finished.Load() {
			return
		}
		f.fired, f.at = true, time.Since(p.start)
		f.ev.Do(p.ctrl)
		f.took = time.Since(p.start) - f.at
	})
}

// phase runs the workers for duration (or until limit requests have been
// started) and returns their statistics.
func (r *runner) phase(ctx context.Context, name string, duration time.Duration, limit uint64, events []Event) *phase {
	p := &phase{name: name, limit: limit, ctrl: r.ctrl, byCount: map[uint64]*firedEvent{}}
	for _, ev := range events {
		f := &firedEvent{ev: ev}
		p.events = append(p.events, f)
		if ev.AfterRequests > 0 {
			p.byCount[ev.AfterRequests] = f
		}
	}
	for range r.cfg.Concurrency {
		w := &workerStats{classes: make([]classStats, len(r.ctrl.classes))}
		p.workers = append(p.workers, w)
	}

	cpuStart := processCPU()
	p.start = time.Now()
	var stopTimer *time.Timer
	if duration > 0 {
		stopTimer = time.AfterFunc(duration, func() { p.stop.Store(true) })
	}
	var eventTimers []*time.Timer
	for _, f := range p.events {
		if f.ev.At > 0 {
			p.eventsWG.Add(1)
			eventTimers = append(eventTimers, time.AfterFunc(f.ev.At, func() {
				defer p.eventsWG.Done()
				p.fire(f)
			}))
		}
	}
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		r.watch(ctx, p, duration, limit, stopWatch)
	}()

	var wg sync.WaitGroup
	for i, w := range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(p, i, w)
		}()
	}
	wg.Wait()
	p.elapsed = time.Since(p.start)
	p.cpu = processCPU() - cpuStart
	p.finished.Store(true)
	p.stop.Store(true)
	if stopTimer != nil {
		stopTimer.Stop()
	}
	for _, t := range eventTimers {
		if t.Stop() {
			p.eventsWG.Done() // the timer had not fired: its event never will
		}
	}
	close(stopWatch)
	<-watchDone
	p.eventsWG.Wait()
	return p
}

// watch stops the phase when ctx is cancelled and prints progress lines.
func (r *runner) watch(ctx context.Context, p *phase, duration time.Duration, limit uint64, stop <-chan struct{}) {
	var tick <-chan time.Time
	if r.cfg.Progress != nil {
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		tick = t.C
	}
	var lastDone uint64
	lastTime := p.start
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			p.stop.Store(true)
			return
		case now := <-tick:
			var done uint64
			for _, w := range p.workers {
				done += w.done.Load()
			}
			rate := float64(done-lastDone) / now.Sub(lastTime).Seconds()
			lastDone, lastTime = done, now
			total := "?"
			if duration > 0 {
				total = duration.String()
			} else if limit > 0 {
				total = fmt.Sprintf("%d requests", limit)
			}
			fmt.Fprintf(r.cfg.Progress, "%s: %.1fs of %s, %d requests, %.0f req/s\n",
				p.name, now.Sub(p.start).Seconds(), total, done, rate)
		}
	}
}

// work is one worker's request loop.
func (r *runner) work(p *phase, id int, w *workerStats) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	r.template.CopyTo(req)
	auth := make([]byte, 0, 1024)
	n := uint64(len(r.sched))
	slot := uint64(id) * n / uint64(r.cfg.Concurrency) // spread the workers over the cycle
	for i := range w.classes {
		w.classes[i].nextToken = uint64(id) * 7919
	}
	failures := 0
	for !p.stop.Load() {
		if p.limit > 0 {
			seq := p.seq.Add(1)
			if seq > p.limit {
				break
			}
			if f := p.byCount[seq]; f != nil {
				p.fire(f)
			}
			slot = seq - 1
		}
		ci := r.sched[slot%n]
		slot++
		lc := r.ctrl.classes[ci]
		cs := &w.classes[ci]
		if tokens := *lc.tokens.Load(); len(tokens) > 0 {
			auth = append(append(auth[:0], bearerPrefix...), tokens[cs.nextToken%uint64(len(tokens))]...)
			cs.nextToken++
			req.Header.SetBytesKV(authHeader, auth)
		} else {
			req.Header.DelBytes(authHeader)
		}
		var tok []byte
		if r.cfg.Send != nil {
			if tokens := *lc.tokens.Load(); len(tokens) > 0 {
				tok = auth[len(bearerPrefix):]
			}
		}
		start := time.Now()
		var err error
		code := 0
		if r.cfg.Send != nil {
			code, err = r.cfg.Send(id, tok)
		} else {
			err = r.client.Do(req, resp)
			code = resp.StatusCode()
		}
		latency := time.Since(start)
		w.done.Add(1)
		if err != nil {
			cs.errors++
			w.errs.add(err)
			if failures++; failures >= maxConsecutiveErrors {
				w.errs.add(fmt.Errorf("worker stopped after %d consecutive errors", failures))
				return
			}
			continue
		}
		failures = 0
		cs.statuses.add(code)
		if int32(code) != lc.expect.Load() {
			cs.unexpected++
		}
		w.hist.Record(int64(latency))
	}
}

// result merges the workers' statistics of the measured phase.
func (r *runner) result(p *phase, mix []Class) *Result {
	res := &Result{
		Name:        r.cfg.Name,
		URL:         r.cfg.URL,
		Method:      r.cfg.Method,
		Concurrency: r.cfg.Concurrency,
		Elapsed:     p.elapsed,
		CPU:         p.cpu,
		Statuses:    map[int]uint64{},
	}
	for ci, m := range mix {
		cr := ClassResult{Name: m.Name, Weight: m.Weight, Expect: int(r.ctrl.classes[ci].expect.Load()), Statuses: map[int]uint64{}}
		for _, w := range p.workers {
			cs := &w.classes[ci]
			cs.statuses.addTo(cr.Statuses)
			cr.Errors += cs.errors
			cr.Unexpected += cs.unexpected
		}
		for code, count := range cr.Statuses {
			cr.Requests += count
			res.Statuses[code] += count
		}
		cr.Requests += cr.Errors
		res.Requests += cr.Requests
		res.Errors += cr.Errors
		res.Unexpected += cr.Unexpected
		res.Classes = append(res.Classes, cr)
	}
	errs := map[string]uint64{}
	for _, w := range p.workers {
		res.hist.Merge(&w.hist)
		for msg, count := range w.errs.counts {
			errs[msg] += count
		}
		if w.errs.other > 0 {
			errs["(other errors)"] += w.errs.other
		}
	}
	for msg, count := range errs {
		res.ErrorSamples = append(res.ErrorSamples, ErrorSample{Message: msg, Count: count})
	}
	sort.Slice(res.ErrorSamples, func(i, j int) bool {
		a, b := res.ErrorSamples[i], res.ErrorSamples[j]
		return a.Count > b.Count || a.Count == b.Count && a.Message < b.Message
	})
	for _, f := range p.events {
		res.Events = append(res.Events, EventResult{
			Name: f.ev.Name, Fired: f.fired, At: f.at, Took: f.took,
			PlannedAt: f.ev.At, PlannedAfterRequests: f.ev.AfterRequests,
		})
	}
	if secs := p.elapsed.Seconds(); secs > 0 {
		res.RPS = float64(res.Requests) / secs
	}
	res.Latency = summarize(&res.hist)
	return res
}
