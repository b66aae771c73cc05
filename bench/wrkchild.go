package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// child is a server of the wrk comparison running as a process of its own.
// It dies with the process that started it (childAttr), so that a harness
// killed by a test's timeout leaves no server behind.
type child struct {
	name   string
	url    string // "http://127.0.0.1:PORT", once it listens
	cmd    *exec.Cmd
	output *boundedBuffer // the start of its standard output and error
	exited chan struct{}
	err    error // the exit status, once exited is closed
	killed bool  // stop has killed it
}

// startChild starts argv with an empty environment (no GOMAXPROCS, GOGC or
// JWTGATE_* setting of the caller's changes what is measured) and returns
// once addrOf finds, in a line of its output, the loopback address it
// listens on.
func startChild(name string, argv []string, addrOf func(line string) (string, bool)) (*child, error) {
	c := &child{name: name, output: &boundedBuffer{max: 16 << 10}, exited: make(chan struct{})}
	addr := make(chan string, 1)
	onLine := func(line string) bool {
		a, ok := addrOf(line)
		if ok {
			select {
			case addr <- a:
			default: // a second announcement changes nothing
			}
		}
		return ok
	}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = []string{}
	c.cmd.SysProcAttr = childAttr()
	c.cmd.WaitDelay = time.Second
	// One scanner per stream: the two are copied concurrently, so their
	// partial lines must not meet.
	c.cmd.Stdout = &lineWriter{kept: c.output, onLine: onLine}
	c.cmd.Stderr = &lineWriter{kept: c.output, onLine: onLine}
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("wrk comparison: starting %s: %w", name, err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.exited)
	}()
	select {
	case a := <-addr:
		c.url = "http://" + a
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("wrk comparison: %s exited at start (%v): %s\n%s", name, c.err, strings.Join(argv, " "), c.output.String())
	case <-time.After(startLimit):
		c.stop()
		return nil, fmt.Errorf("wrk comparison: %s did not say where it listens within %s: %s\n%s", name, startLimit, strings.Join(argv, " "), c.output.String())
	}
}

// firstLineAddr reads the address cmd/ceiling prints: "127.0.0.1:PORT".
func firstLineAddr(line string) (string, bool) {
	line = strings.TrimSpace(line)
	host, _, err := net.SplitHostPort(line)
	return line, err == nil && host == "127.0.0.1"
}

// jwtgateListenAddr reads the address from the line `jwtgate serve
// --log-format json` logs once it serves: {"msg":"jwtgate serving",
// "listen":"127.0.0.1:PORT",...}.
func jwtgateListenAddr(line string) (string, bool) {
	var l struct {
		Msg    string `json:"msg"`
		Listen string `json:"listen"`
	}
	if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "jwtgate serving" {
		return "", false
	}
	return firstLineAddr(l.Listen)
}

// waitReady polls /readyz until it answers 200, the process exits, or the
// time is up.
func (c *child) waitReady(limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(c.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		select {
		case <-c.exited:
			return fmt.Errorf("wrk comparison: %s exited before it was ready (%v):\n%s", c.name, c.err, c.output.String())
		case <-time.After(20 * time.Millisecond): // polling for the server to load its keys
		}
		if time.Now().After(deadline) {
			c.stop()
			return fmt.Errorf("wrk comparison: %s/readyz did not answer 200 within %s (last: %v):\n%s", c.url, limit, err, c.output.String())
		}
	}
}

// pid is the process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// alive reports whether the process is still running.
func (c *child) alive() bool {
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// outputNote is, for a process that has exited, how it ended and what it
// printed; "" while it runs.
func (c *child) outputNote() string {
	if c.alive() {
		return ""
	}
	return fmt.Sprintf("\n%s had exited (%v):\n%s", c.name, c.err, c.output.String())
}

// stop kills the process (a benchmark server has nothing to drain) and
// waits for it. It reports an exit the harness did not cause; a second call
// does nothing.
func (c *child) stop() error {
	if c.killed {
		return nil
	}
	c.killed = true
	if !c.alive() {
		return fmt.Errorf("wrk comparison: %s had exited (%v):\n%s", c.name, c.err, c.output.String())
	}
	c.cmd.Process.Kill()
	<-c.exited
	return nil
}

// lineWriter keeps what is written to it in kept and hands each complete
// line to onLine until onLine returns true.
type lineWriter struct {
	kept    *boundedBuffer
	onLine  func(string) bool
	mu      sync.Mutex
	partial []byte
	found   bool
}

// maxLine bounds the partial line a lineWriter holds.
const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.kept.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.found {
		return len(p), nil
	}
	w.partial = append(w.partial, p...)
	for !w.found {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.found = w.onLine(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > maxLine || w.found {
		w.partial = nil
	}
	return len(p), nil
}
