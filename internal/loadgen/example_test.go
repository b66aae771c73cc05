package loadgen_test

import (
	"context"
	"fmt"

	"github.com/jwtgate/jwtgate/internal/loadgen"
)

func Example() {
	ceiling, err := loadgen.StartCeiling()
	if err != nil {
		panic(err)
	}
	defer ceiling.Close()

	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Name:        "ceiling",
		URL:         ceiling.URL + "/auth",
		Concurrency: 4,
		Requests:    1000, // or Duration: 10 * time.Second
		Mix: []loadgen.Class{
			{Name: "valid", Weight: 9, Tokens: [][]byte{[]byte("token-a"), []byte("token-b")}},
			{Name: "none", Weight: 1}, // no Authorization header
		},
	})
	if err != nil {
		panic(err)
	}
	for _, c := range res.Classes {
		fmt.Printf("%s: %d requests, status 200: %d, unexpected: %d\n", c.Name, c.Requests, c.Statuses[200], c.Unexpected)
	}
	fmt.Println("latencies recorded:", res.Latency.Count)
	// Output:
	// valid: 900 requests, status 200: 900, unexpected: 0
	// none: 100 requests, status 200: 100, unexpected: 0
	// latencies recorded: 1000
}
