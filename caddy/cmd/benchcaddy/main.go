// Command benchcaddy measures, on loopback and in one run, what jwtgate
// costs in front of an upstream behind Caddy: Caddy's reverse_proxy alone
// (the ceiling), Caddy with the jwtgate handler, and Caddy's forward_auth
// calling "jwtgate serve". It prints requests per second, latency
// percentiles and the CPU time per request of Caddy and jwtgate together
// (from /proc; the load generator and the upstream run in this process
// and are not counted).
//
//	go run ./cmd/benchcaddy -caddy ../bin/caddy-jwtgate -jwtgate ../bin/jwtgate
//
// make bench-caddy builds both and runs it.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const issuer = "https://id.example.com"

func main() {
	caddyBin := flag.String("caddy", "bin/caddy-jwtgate", "Caddy built with the jwtgate module (make caddy)")
	jwtgateBin := flag.String("jwtgate", "bin/jwtgate", "the jwtgate binary (make build)")
	duration := flag.Duration("duration", 10*time.Second, "load per target")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured load before each target")
	conns := flag.Int("c", 32, "concurrent connections")
	flag.Parse()
	if err := run(*caddyBin, *jwtgateBin, *duration, *warmup, *conns); err != nil {
		fmt.Fprintln(os.Stderr, "benchcaddy:", err)
		os.Exit(1)
	}
}

func run(caddyBin, jwtgateBin string, duration, warmup time.Duration, conns int) error {
	dir, err := os.MkdirTemp("", "benchcaddy")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	jwks, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "kid": "k1",
		"x": base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))}}})
	jwksPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, jwks, 0o600); err != nil {
		return err
	}
	token := sign(priv, map[string]any{"iss": issuer, "aud": "api", "sub": "alice", "scope": "read",
		"exp": time.Now().Add(time.Hour).Unix()})

	// The upstream: a small answer, as an API would give.
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(up, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Subject") == "" && r.URL.Path != "/plain" {
			w.WriteHeader(500)
			return
		}
		w.Write([]byte("ok\n"))
	}))

	ports := make([]int, 5)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return err
		}
	}
	plain, module, forward, jwtgatePort, admin := ports[0], ports[1], ports[2], ports[3], ports[4]

	jg := exec.Command(jwtgateBin, "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", jwtgatePort),
		"--jwks-file", jwksPath, "--issuer", issuer, "--audience", "api")
	jg.Stderr = os.Stderr
	if err := jg.Start(); err != nil {
		return fmt.Errorf("%s: %w (make build)", jwtgateBin, err)
	}
	defer stop(jg)

	caddyfile := fmt.Sprintf(`{
	admin 127.0.0.1:%[1]d
	auto_https off
	log {
		level ERROR
	}
}
http://127.0.0.1:%[2]d {
	rewrite * /plain
	reverse_proxy %[5]s
}
http://127.0.0.1:%[3]d {
	jwtgate {
		issuer %[7]s
		jwks_file %[8]s
		audience api
	}
	reverse_proxy %[5]s
}
http://127.0.0.1:%[4]d {
	forward_auth 127.0.0.1:%[6]d {
		uri /auth
		copy_headers X-Auth-Subject X-Auth-Issuer X-Auth-Scope
	}
	reverse_proxy %[5]s
}
`, admin, plain, module, forward, up.Addr().String(), jwtgatePort, issuer, jwksPath)
	cfPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cfPath, []byte(caddyfile), 0o600); err != nil {
		return err
	}
	cd := exec.Command(caddyBin, "run", "--config", cfPath, "--adapter", "caddyfile")
	cd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	cd.Stderr = os.Stderr
	if err := cd.Start(); err != nil {
		return fmt.Errorf("%s: %w (make caddy)", caddyBin, err)
	}
	defer stop(cd)

	targets := []struct {
		name string
		port int
		pids []int
	}{
		{"caddy reverse_proxy (ceiling)", plain, []int{cd.Process.Pid}},
		{"caddy + jwtgate module", module, []int{cd.Process.Pid}},
		{"caddy forward_auth -> jwtgate serve", forward, []int{cd.Process.Pid, jg.Process.Pid}},
	}
	for _, t := range targets {
		if err := waitOK(fmt.Sprintf("http://127.0.0.1:%d/", t.port), token); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	fmt.Printf("loopback, %d connections, %s per target (after %s warm-up), one valid EdDSA token, GOMAXPROCS of each process: all cores\n\n", conns, duration, warmup)
	fmt.Printf("%-38s %10s %9s %9s %9s %12s %8s\n", "target", "req/s", "p50", "p99", "p99.9", "CPU/req", "errors")
	for _, t := range targets {
		url := fmt.Sprintf("http://127.0.0.1:%d/orders", t.port)
		load(url, token, conns, warmup)
		cpu0, err := cpuTime(t.pids)
		if err != nil {
			return err
		}
		r := load(url, token, conns, duration)
		cpu1, err := cpuTime(t.pids)
		if err != nil {
			return err
		}
		perReq := time.Duration(0)
		if r.n > 0 {
			perReq = (cpu1 - cpu0) / time.Duration(r.n)
		}
		fmt.Printf("%-38s %10.0f %9s %9s %9s %12s %8d\n", t.name, float64(r.n)/r.elapsed.Seconds(),
			r.pct(0.50), r.pct(0.99), r.pct(0.999), perReq, r.errors)
	}
	return nil
}

// result is one target's load.
type result struct {
	n, errors int
	elapsed   time.Duration
	lat       []time.Duration
}

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))].Round(time.Microsecond)
}

// load sends GET url with the token on conns keep-alive connections for d.
func load(url, token string, conns int, d time.Duration) result {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		all    []time.Duration
		errs   atomic.Int64
		stopAt = time.Now().Add(d)
	)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<16)
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			for time.Now().Before(stopAt) {
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(all)
	return result{n: len(all), errors: int(errs.Load()), elapsed: time.Since(start), lat: all}
}

// cpuTime returns the user and system CPU time the processes have used.
func cpuTime(pids []int) (time.Duration, error) {
	var total time.Duration
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, fmt.Errorf("CPU time needs /proc: %w", err)
		}
		// Fields after the command (which may hold spaces) in parentheses.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(utime+stime) * time.Second / 100 // USER_HZ
	}
	return total, nil
}

func waitOK(url, token string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func sign(priv ed25519.PrivateKey, claims map[string]any) string {
	hdr, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": "k1"})
	payload, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(input)))
}
