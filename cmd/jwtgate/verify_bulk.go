package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// Standard input is verified in batches of lines: one goroutine reads and
// splits the lines into a batch, GOMAXPROCS workers verify whole batches,
// each with its own engine.Token and output buffer, and one writer prints
// the batches' output in their input order. A fixed set of batches is
// recycled, so memory stays flat however many tokens the input holds, and a
// token costs no allocation once the batches' buffers have grown.
const (
	// bulkBatchLines and bulkBatchBytes bound one batch: small enough to
	// spread work over the cores, large enough that handing a batch over
	// costs little per token.
	bulkBatchLines = 256
	bulkBatchBytes = 64 << 10
	// bulkBatchesPerWorker is how many batches exist per worker: one being
	// verified, the others being read, waiting or written.
	bulkBatchesPerWorker = 4
	// bulkReadBuffer is the size of the input buffer, unless a line may be
	// longer.
	bulkReadBuffer = 256 << 10
)

// seenSlots is the size of the filter telling a repeated token from a new
// one: it remembers about the last 16,000 distinct tokens. Its 128 KiB stay
// in the reading core's caches; a filter as large as the verified-token
// cache (65,536 tokens) missed them and cost each token about a tenth of an
// HS256 verification.
const seenSlots = 1 << 14

// seenTail is how many trailing bytes of a token the filter hashes: the end
// of its signature, unpredictable for every genuine token, so that
// distinct tokens are told apart as well as by hashing them whole, at a
// fraction of the cost. Tokens alike in their last bytes and length are
// taken for one, which only sends the second to the cache.
const seenTail = 32

// verifyRun verifies one token or a stream of them and prints the results.
type verifyRun struct {
	plain    *engine.Verifier // no cache: tokens seen for the first time
	cached   *engine.Verifier // with the cache: tokens seen before
	seen     *seenFilter      // the reading goroutine's only
	clock    *batchClock      // the verifiers' clock, stamped per batch; nil if they read their own
	out      *bufio.Writer
	w        resultWriter // the summary line
	noClaims bool
	summary  bool
	maxSize  int
	lineMax  int   // bytes of one input line held at most
	tooLarge error // engine.ErrTooLarge naming the cap and --max-token-size

	valid, invalid uint64      // written so far
	writeFailed    atomic.Bool // the output is gone: stop reading
}

// newVerifyRun returns a run verifying tokens of at most maxSize bytes
// with plain, or with cached when they were seen before, and writing to
// out.
func newVerifyRun(plain, cached *engine.Verifier, out *bufio.Writer, noClaims, summary bool, maxSize int) *verifyRun {
	return &verifyRun{
		plain:    plain,
		cached:   cached,
		seen:     newSeenFilter(seenSlots),
		out:      out,
		noClaims: noClaims,
		summary:  summary,
		maxSize:  maxSize,
		lineMax:  max(verifyLineMax, maxSize+verifyLineSlack),
		tooLarge: engine.ErrTooLarge.Refine(fmt.Sprintf("token is over the %d-byte cap (--max-token-size raises it)", maxSize)), // worded as the verifier's own
	}
}

// verifyOne verifies one token, already trimmed of surrounding space, and
// writes its result.
func (r *verifyRun) verifyOne(token []byte) {
	k := r.newWorker()
	var b bulkBatch
	k.verify(token, false, &b)
	r.emit(&b)
}

// emit writes a verified batch's output and counts its results. A write
// error stops the reading; the caller's final Flush reports it.
func (r *verifyRun) emit(b *bulkBatch) {
	if _, err := r.out.Write(b.out); err != nil {
		r.writeFailed.Store(true)
	}
	r.valid += b.valid
	r.invalid += b.invalid
}

// bulkLine is one input line of a batch: the token's bytes in the batch's
// input, or an overlong line that was not held.
type bulkLine struct {
	start, end int
	tooLarge   bool
	repeated   bool // seen shortly before: verify it with the cache
}

// bulkBatch is a run of consecutive input lines and, once verified, their
// output.
type bulkBatch struct {
	seq            uint64 // position in the input, counted in batches
	in             []byte // the lines' tokens, trimmed, back to back
	lines          []bulkLine
	out            []byte
	valid, invalid uint64
	flush          bool // the input had nothing more buffered: print at once
}

// reset empties b for reuse as batch seq, keeping its buffers.
func (b *bulkBatch) reset(seq uint64) {
	b.seq = seq
	b.in, b.lines, b.out = b.in[:0], b.lines[:0], b.out[:0]
	b.valid, b.invalid, b.flush = 0, 0, false
}

// add appends a line holding token, repeated if it was seen shortly before.
func (b *bulkBatch) add(token []byte, repeated bool) {
	start := len(b.in)
	b.in = append(b.in, token...)
	b.lines = append(b.lines, bulkLine{start: start, end: len(b.in), repeated: repeated})
}

// repeated reports whether token, a line trimmed of space, was seen
// shortly before and is worth verifying with the cache, and remembers it.
// Only the reading goroutine calls it, so that the filter stays in one
// core's cache instead of moving between the workers' at every token.
func (r *verifyRun) repeated(token []byte) bool {
	return !r.noClaims && len(token) > 0 && len(token) <= r.maxSize && r.seen.repeated(token)
}

// full reports whether b should be handed over before another line.
func (b *bulkBatch) full() bool {
	return len(b.lines) >= bulkBatchLines || len(b.in) >= bulkBatchBytes
}

// verifyLines verifies one token per line of in with the given number of
// workers, printing one result per line in input order. Output is flushed
// whenever the input has nothing more buffered, so that an interactive user
// sees each answer before typing the next token.
func (r *verifyRun) verifyLines(in io.Reader, workers int) error {
	workers = max(workers, 1)
	n := workers * bulkBatchesPerWorker
	free := make(chan *bulkBatch, n)
	for range n {
		free <- &bulkBatch{in: make([]byte, 0, bulkBatchBytes+4<<10), lines: make([]bulkLine, 0, bulkBatchLines)}
	}
	jobs := make(chan *bulkBatch, n)
	done := make(chan *bulkBatch, n)

	var wg sync.WaitGroup
	for range workers {
		k := r.newWorker()
		wg.Go(func() {
			for b := range jobs {
				k.verifyBatch(b)
				done <- b
			}
		})
	}
	written := make(chan struct{})
	go func() {
		r.write(done, free, n)
		close(written)
	}()

	err := r.read(in, free, jobs)
	close(jobs)
	wg.Wait()
	close(done)
	<-written
	return err
}

// read splits in into batches of lines taken from free and hands them to
// jobs in input order.
func (r *verifyRun) read(in io.Reader, free <-chan *bulkBatch, jobs chan<- *bulkBatch) error {
	br := bufio.NewReaderSize(in, max(r.lineMax, bulkReadBuffer))
	var seq uint64
	b := <-free
	b.reset(seq)
	send := func(flush bool) {
		b.flush = flush
		r.stampClock()
		jobs <- b
		seq++
		b = <-free
		b.reset(seq)
	}
	defer func() { // the last lines; b itself is dropped
		if len(b.lines) > 0 {
			b.flush = true
			r.stampClock()
			jobs <- b
		}
	}()
	for !r.writeFailed.Load() {
		if br.Buffered() == 0 && len(b.lines) > 0 {
			send(true) // the next read may wait for the user
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			b.lines = append(b.lines, bulkLine{tooLarge: true})
			err = skipLine(br)
		} else if err == io.EOF && len(line) == 0 {
			return nil // the input ended with a newline, or was empty
		} else {
			token := bytes.TrimSpace(line)
			b.add(token, r.repeated(token))
		}
		if b.full() {
			send(false)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// stampClock sets the verifiers' clock to now, as a batch is handed over.
func (r *verifyRun) stampClock() {
	if r.clock != nil {
		r.clock.stamp()
	}
}

// batchClock is the verifiers' clock in a bulk run: the time at which the
// reading goroutine handed over the latest batch, so that the clock is read
// once per batch instead of once per token. A token is therefore judged at
// a time at most the queue of batches old (milliseconds), never later than
// the true time; the verifier compares whole seconds and allows 30 s of
// leeway. Before the first batch it is the true time.
type batchClock struct {
	now func() time.Time // time.Now; tests fake it
	ns  atomic.Int64     // the latest stamp, Unix nanoseconds; 0 before the first
}

func newBatchClock() *batchClock { return &batchClock{now: time.Now} }

// Now implements engine.Clock.
func (c *batchClock) Now() time.Time {
	if ns := c.ns.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return c.now()
}

// stamp sets the clock to the true time.
func (c *batchClock) stamp() { c.ns.Store(c.now().UnixNano()) }

// write prints the verified batches from done in input order, counting
// their results, and returns each to free once printed. At most n batches
// exist, so batch seq waits in pending[seq%n] without overwriting another.
func (r *verifyRun) write(done <-chan *bulkBatch, free chan<- *bulkBatch, n int) {
	pending := make([]*bulkBatch, n)
	var next uint64
	for b := range done {
		pending[b.seq%uint64(n)] = b
		for p := pending[next%uint64(n)]; p != nil; p = pending[next%uint64(n)] {
			pending[next%uint64(n)] = nil
			r.emit(p)
			if p.flush && !r.summary && r.out.Flush() != nil {
				r.writeFailed.Store(true) // reported by the caller's final Flush
			}
			next++
			free <- p
		}
	}
}

// verifyWorker verifies tokens with its own scratch Token and output
// buffer; each worker goroutine has one.
type verifyWorker struct {
	*verifyRun
	token engine.Token
	w     resultWriter
}

func (r *verifyRun) newWorker() *verifyWorker { return &verifyWorker{verifyRun: r} }

// verifyBatch verifies every line of b into b.out.
func (k *verifyWorker) verifyBatch(b *bulkBatch) {
	for _, l := range b.lines {
		if l.tooLarge {
			k.record(engine.ErrTooLarge, b)
			continue
		}
		k.verify(b.in[l.start:l.end:l.end], l.repeated, b)
	}
}

// verify checks one token, already trimmed of surrounding space, with the
// cache if it is repeated, and appends its result line to b.
func (k *verifyWorker) verify(token []byte, repeated bool, b *bulkBatch) {
	var err error
	switch {
	case len(token) == 0:
		b.invalid++
		if !k.summary {
			b.out = append(b.out, k.w.invalidReason(engine.OAuthInvalidToken, emptyReason, emptyDescription)...)
		}
		return
	case hasBearerPrefix(token):
		err = errBearer
	case k.noClaims:
		err = k.plain.VerifySignature(token, &k.token) // never cached
	case repeated:
		err = k.cached.Verify(token, &k.token)
	default:
		err = k.plain.Verify(token, &k.token)
	}
	k.record(err, b)
}

// record counts the outcome of the token just verified into k.token and
// appends its line to b.
func (k *verifyWorker) record(err error, b *bulkBatch) {
	if err == engine.ErrTooLarge {
		err = k.tooLarge
	}
	if err != nil {
		b.invalid++
		if !k.summary {
			b.out = append(b.out, k.w.invalid(err)...)
		}
		return
	}
	b.valid++
	if !k.summary {
		b.out = append(b.out, k.w.valid(&k.token, k.noClaims)...)
	}
}

// seenFilter tells whether a token was seen recently: a table of 64-bit
// hashes of the tokens' lengths and last seenTail bytes, for one goroutine,
// in sets of two slots, so that two tokens repeated in turn whose hashes
// pick the same set do not keep evicting each other (with one slot each,
// some pair among a thousand tokens would never be found again). A token is
// forgotten when two later ones took its set, and two tokens are confused if
// their hashes are equal (or their tails and lengths); either mistake merely
// changes whether the cache is used, never a verdict.
type seenFilter struct {
	seed  maphash.Seed
	slots []uint64
	mask  uint64
}

// newSeenFilter returns a filter of n slots, n a power of two.
func newSeenFilter(n int) *seenFilter {
	return &seenFilter{seed: maphash.MakeSeed(), slots: make([]uint64, n), mask: uint64(n - 1)}
}

// hash returns token's hash, never 0 (which marks an empty slot), and the
// index of its set's first slot.
func (s *seenFilter) hash(token []byte) (h uint64, set uint64) {
	tail := token[max(0, len(token)-seenTail):]
	h = (maphash.Bytes(s.seed, tail) ^ uint64(len(token))*0x9e3779b97f4a7c15) | 1
	return h, (h >> 32) & s.mask &^ 1
}

// repeated reports whether token was seen before, and remembers it.
func (s *seenFilter) repeated(token []byte) bool {
	h, i := s.hash(token)
	set := s.slots[i:][:2]
	if set[0] == h || set[1] == h {
		return true
	}
	set[0], set[1] = h, set[0] // the newer first
	return false
}
