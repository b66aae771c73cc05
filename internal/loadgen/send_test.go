package loadgen

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestSend: with Send, every request goes through it with its class's
// token (nil for a class without tokens), statuses and errors are counted
// as for HTTP, and the URL needs no http scheme.
func TestSend(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	workers := map[int]bool{}
	res, err := Run(context.Background(), Config{
		Name: "grpc", URL: "grpc://127.0.0.1:1", Concurrency: 3, Requests: 60,
		Mix: []Class{
			{Name: "valid", Weight: 1, Tokens: [][]byte{[]byte("good")}},
			{Name: "none", Weight: 1, Expect: 401},
			{Name: "broken", Weight: 1, Tokens: [][]byte{[]byte("fail")}},
		},
		Send: func(worker int, tok []byte) (int, error) {
			mu.Lock()
			seen[string(tok)]++
			workers[worker] = true
			mu.Unlock()
			switch string(tok) {
			case "good":
				return 200, nil
			case "":
				return 401, nil
			}
			return 0, errors.New("transport failed")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 60 || res.Errors != 20 || res.Unexpected != 0 || res.Statuses[200] != 20 || res.Statuses[401] != 20 {
		t.Fatalf("requests %d errors %d unexpected %d statuses %v", res.Requests, res.Errors, res.Unexpected, res.Statuses)
	}
	if seen["good"] != 20 || seen[""] != 20 || seen["fail"] != 20 {
		t.Fatalf("tokens sent %v", seen)
	}
	for w := range workers {
		if w < 0 || w >= 3 {
			t.Fatalf("worker %d of 3", w)
		}
	}
}
