package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// Environment of the child process of TestServeOutOfDescriptors: the test
// binary, started again, lowers its open-file limit and runs jwtgate serve.
const (
	envChildNofile = "JWTGATE_TEST_CHILD_NOFILE" // the open-file limit, soft and hard
	envChildArgs   = "JWTGATE_TEST_CHILD_ARGS"   // serve's arguments, one per line
)

func TestMain(m *testing.M) {
	if n := os.Getenv(envChildNofile); n != "" {
		os.Exit(childServe(n, os.Getenv(envChildArgs)))
	}
	os.Exit(m.Run())
}

// childServe runs jwtgate serve under an open-file limit of n (0: the
// inherited one).
func childServe(n, args string) int {
	limit, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", envChildNofile, err)
		return 3
	}
	if limit != 0 {
		if err := setFileLimit(limit); err != nil {
			fmt.Fprintf(os.Stderr, "setrlimit: %v\n", err)
			return 3
		}
	}
	return runServe(strings.Split(args, "\n"), os.Stdout, os.Stderr)
}

// TestServeOutOfDescriptors runs jwtgate serve with 256 descriptors and
// opens more connections than that. With the default headroom the server
// answers the connections over its cap (256 − 64) 503 and closes them; with
// a headroom of 1 it runs out of descriptors and backs off. Either way it
// never exits, and a valid request gets 200 once some connections close.
func TestServeOutOfDescriptors(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux: the child process lowers its RLIMIT_NOFILE with setrlimit")
	}
	key := sign.MustGenerate(engine.ES256, "fd")
	tok, err := key.Sign(map[string]any{"iss": "https://issuer.example", "aud": "api", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	const limit, conns = 256, 300
	for _, tc := range []struct {
		name     string
		extra    string
		maxConns int    // the cap the server reports
		evidence string // what /metrics shows of the overload
	}{
		{"cap", "", limit - 64, "jwtgate_connections_refused_total"},
		{"emfile", "  fd_headroom: 1\n", limit - 1, "jwtgate_accept_errors_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, key, "limits:\n  read_timeout: 60s\n  idle_timeout: 60s\n"+tc.extra)
			child := startChild(t, limit, "--config", path, "--drain-period", "0s")
			line := child.await(t, "jwtgate serving")
			if !strings.Contains(line, fmt.Sprintf("max_connections=%d ", tc.maxConns)) {
				t.Errorf("serving line %q, want max_connections=%d", line, tc.maxConns)
			}
			addr := regexp.MustCompile(`listen=(\S+)`).FindStringSubmatch(line)[1]

			var open []net.Conn
			defer func() {
				for _, c := range open {
					c.Close()
				}
			}()
			for i := 0; i < conns; i++ {
				c, err := net.DialTimeout("tcp", addr, 20*time.Second)
				if err != nil {
					t.Fatalf("connection %d: %v", i, err)
				}
				open = append(open, c)
			}
			// Wait until the server is overloaded.
			if tc.name == "emfile" {
				child.await(t, "too many open files")
			} else {
				last := open[len(open)-1]
				last.SetReadDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck // a failure shows as a timeout
				resp, err := http.ReadResponse(bufio.NewReader(last), nil)
				if err != nil || resp.StatusCode != 503 {
					t.Fatalf("connection over the cap: %v %v, want 503", resp, err)
				}
				resp.Body.Close()
			}
			child.alive(t)
			// Free some descriptors: the first connections were accepted.
			for _, c := range open[:100] {
				c.Close()
			}
			open = open[100:]
			// The server frees a connection's slot when it reads its
			// close: until then a new one may still be over the cap (503).
			deadline := time.Now().Add(20 * time.Second)
			for {
				status, err := request(addr, "/auth", tok)
				if err == nil && status == 200 {
					break
				}
				if err != nil || status != 503 || time.Now().After(deadline) {
					t.Fatalf("request after connections closed: %d %v\n%s", status, err, child.stderr())
				}
				time.Sleep(10 * time.Millisecond)
			}
			body, err := get(addr, "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			if m := regexp.MustCompile(`(?m)^` + tc.evidence + ` (\d+)$`).FindStringSubmatch(body); m == nil || m[1] == "0" {
				t.Errorf("metrics: %s not counted: %v", tc.evidence, m)
			}
			child.alive(t)
			for _, c := range open {
				c.Close()
			}
			open = nil
			if code := child.stop(t); code != 0 {
				t.Errorf("exit %d after SIGTERM:\n%s", code, child.stderr())
			}
			if tc.name == "cap" && !strings.Contains(child.stderr(), "limits.fd_headroom") {
				t.Errorf("the refusals are not logged with their fix:\n%s", child.stderr())
			}
		})
	}
}

// TestServeSignals: the first SIGTERM starts the drain (/readyz 503,
// Connection: close), a second one stops at once although the drain period
// is an hour.
func TestServeSignals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGTERM, which Windows cannot send")
	}
	key := sign.MustGenerate(engine.ES256, "sig")
	child := startChild(t, 0, "--config", writeConfig(t, key, ""), "--drain-period", "1h")
	addr := regexp.MustCompile(`listen=(\S+)`).FindStringSubmatch(child.await(t, "jwtgate serving"))[1]
	if status, err := request(addr, "/readyz", ""); err != nil || status != 200 {
		t.Fatalf("/readyz before SIGTERM: %d %v", status, err)
	}
	if err := child.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	child.await(t, "draining")
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("/readyz while draining: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || !resp.Close {
		t.Errorf("/readyz while draining: %d, Connection: close %t; want 503 and close", resp.StatusCode, resp.Close)
	}
	if code := child.stop(t); code != 0 {
		t.Errorf("exit %d after the second SIGTERM:\n%s", code, child.stderr())
	}
	if !strings.Contains(child.stderr(), "stopping at once") {
		t.Errorf("the second signal is not logged:\n%s", child.stderr())
	}
}

// request sends GET path with a bearer token on a new connection and
// returns the status.
func request(addr, path, tok string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 20*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck // a failure shows as a timeout
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: jwtgate\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", path, tok)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func get(addr, path string) (string, error) {
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// child is jwtgate serve in a child process.
type child struct {
	cmd    *exec.Cmd
	lines  chan string
	exited chan struct{}
	mu     sync.Mutex
	err    strings.Builder
}

func startChild(t *testing.T, nofile int, args ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: exec.Command(exe), lines: make(chan string, 1000), exited: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envChildNofile, nofile), envChildArgs+"="+strings.Join(args, "\n"))
	c.cmd.Stdout = io.Discard
	stderr, err := c.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.err.WriteString(sc.Text() + "\n")
			c.mu.Unlock()
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		c.cmd.Wait() //nolint:errcheck // the exit code is read from ProcessState
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill() //nolint:errcheck // it may have exited
		<-c.exited
	})
	return c
}

func (c *child) stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err.String()
}

// await returns the first stderr line containing s.
func (c *child) await(t *testing.T, s string) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line := <-c.lines:
			if strings.Contains(line, s) {
				return line
			}
		case <-c.exited:
			t.Fatalf("serve exited (%v) before %q:\n%s", c.cmd.ProcessState, s, c.stderr())
		case <-timeout:
			t.Fatalf("no line with %q:\n%s", s, c.stderr())
		}
	}
}

// alive fails the test if the child has exited.
func (c *child) alive(t *testing.T) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf("serve exited (%v):\n%s", c.cmd.ProcessState, c.stderr())
	default:
	}
}

// stop sends SIGTERM and returns the exit code.
func (c *child) stop(t *testing.T) int {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
		return c.cmd.ProcessState.ExitCode()
	case <-time.After(40 * time.Second):
		t.Fatalf("serve did not exit after SIGTERM:\n%s", c.stderr())
		return -1
	}
}
