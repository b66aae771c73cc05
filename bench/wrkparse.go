package bench

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkOutput is what wrk printed about one run.
type wrkOutput struct {
	requests int64   // "N requests in 5.01s, 40.09MB read"
	rps      float64 // "Requests/sec: 111859.26"
	// non2xx is from "Non-2xx or 3xx responses: N", which wrk prints only
	// when there are some.
	non2xx int64
	// Socket errors, from "Socket errors: connect A, read B, write C,
	// timeout D", which wrk prints only when there are some.
	connect, read, write, timeout int64
	p50, p99                      time.Duration // from --latency's distribution; 0 without it
}

var (
	wrkRequestsLine = regexp.MustCompile(`^(\d+) requests in \S+, \S+ read$`)
	wrkSocketLine   = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$`)
	wrkNon2xxLine   = regexp.MustCompile(`^Non-2xx or 3xx responses: (\d+)$`)
	wrkRPSLine      = regexp.MustCompile(`^Requests/sec:\s+(\d+(?:\.\d+)?)$`)
	wrkPercentLine  = regexp.MustCompile(`^(50|99)%\s+(\d+(?:\.\d+)?)(us|ms|s|m|h)$`)
)

// parseWrk reads wrk's report. It fails when the request count or the
// requests/s line is missing, which is how wrk reports nothing measured.
func parseWrk(s string) (wrkOutput, error) {
	var o wrkOutput
	var haveRequests, haveRPS bool
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		var err error
		switch {
		case wrkRequestsLine.MatchString(line):
			o.requests, err = strconv.ParseInt(wrkRequestsLine.FindStringSubmatch(line)[1], 10, 64)
			haveRequests = true
		case wrkSocketLine.MatchString(line):
			m := wrkSocketLine.FindStringSubmatch(line)
			for i, dst := range []*int64{&o.connect, &o.read, &o.write, &o.timeout} {
				if *dst, err = strconv.ParseInt(m[i+1], 10, 64); err != nil {
					break
				}
			}
		case wrkNon2xxLine.MatchString(line):
			o.non2xx, err = strconv.ParseInt(wrkNon2xxLine.FindStringSubmatch(line)[1], 10, 64)
		case wrkRPSLine.MatchString(line):
			o.rps, err = strconv.ParseFloat(wrkRPSLine.FindStringSubmatch(line)[1], 64)
			haveRPS = true
		case wrkPercentLine.MatchString(line):
			m := wrkPercentLine.FindStringSubmatch(line)
			var d time.Duration
			if d, err = time.ParseDuration(m[2] + m[3]); err == nil {
				if m[1] == "50" {
					o.p50 = d
				} else {
					o.p99 = d
				}
			}
		}
		if err != nil {
			return wrkOutput{}, fmt.Errorf("wrk's line %q: %w", line, err)
		}
	}
	if !haveRequests || !haveRPS {
		return wrkOutput{}, errors.New(`wrk printed no "N requests in" or "Requests/sec:" line`)
	}
	return o, nil
}

// check fails a run whose figures would not be a measurement of correct
// answers: nothing answered, an answer that was not 2xx (jwtgate refused a
// valid token), or a socket error (a connection failed, was closed under a
// request, or an answer took longer than --timeout).
func (o wrkOutput) check() error {
	var errs []error
	if o.requests == 0 {
		errs = append(errs, errors.New("no request was answered"))
	}
	if o.non2xx > 0 {
		errs = append(errs, fmt.Errorf("%d of %d answers were not 2xx: every token sent is valid, so every answer must be 200", o.non2xx, o.requests))
	}
	if n := o.connect + o.read + o.write + o.timeout; n > 0 {
		errs = append(errs, fmt.Errorf("%d socket errors (connect %d, read %d, write %d, timeout %d): a correct server keeps every connection and answers within %s",
			n, o.connect, o.read, o.write, o.timeout, wrkTimeout))
	}
	return errors.Join(errs...)
}
