package loadgen

import "sort"

// Merge combines results of the same load against the same server — for
// instance rounds alternated with another server's, so that a noisy machine
// disturbs both alike — into one: counts and latency histograms are added,
// Elapsed is the total measured time and RPS the overall rate. Name, URL,
// Method and Concurrency are the first result's; classes are matched by
// name. Merge returns nil for no results.
func Merge(results ...*Result) *Result {
	if len(results) == 0 {
		return nil
	}
	first := results[0]
	m := &Result{
		Name: first.Name, URL: first.URL, Method: first.Method, Concurrency: first.Concurrency,
		Statuses: map[int]uint64{},
	}
	classIndex := map[string]int{}
	errs := map[string]uint64{}
	for _, r := range results {
		m.Elapsed += r.Elapsed
		m.CPU += r.CPU
		m.Requests += r.Requests
		m.Errors += r.Errors
		m.Unexpected += r.Unexpected
		m.hist.Merge(&r.hist)
		for code, n := range r.Statuses {
			m.Statuses[code] += n
		}
		for _, c := range r.Classes {
			i, ok := classIndex[c.Name]
			if !ok {
				i = len(m.Classes)
				classIndex[c.Name] = i
				m.Classes = append(m.Classes, ClassResult{Name: c.Name, Weight: c.Weight, Statuses: map[int]uint64{}})
			}
			mc := &m.Classes[i]
			mc.Expect = c.Expect
			mc.Requests += c.Requests
			mc.Errors += c.Errors
			mc.Unexpected += c.Unexpected
			for code, n := range c.Statuses {
				mc.Statuses[code] += n
			}
		}
		m.Events = append(m.Events, r.Events...)
		for _, e := range r.ErrorSamples {
			errs[e.Message] += e.Count
		}
	}
	for msg, n := range errs {
		m.ErrorSamples = append(m.ErrorSamples, ErrorSample{Message: msg, Count: n})
	}
	sort.Slice(m.ErrorSamples, func(i, j int) bool {
		a, b := m.ErrorSamples[i], m.ErrorSamples[j]
		return a.Count > b.Count || a.Count == b.Count && a.Message < b.Message
	})
	if secs := m.Elapsed.Seconds(); secs > 0 {
		m.RPS = float64(m.Requests) / secs
	}
	m.Latency = summarize(&m.hist)
	return m
}
