package loadgen

import (
	"fmt"
	"sync/atomic"
)

// Control lets an Event change the mix while the load runs. Its methods are
// safe to call from any goroutine; workers see a change with their next
// request.
type Control struct {
	classes []*liveClass
}

// liveClass is the part of a Class that events may change during a run.
type liveClass struct {
	name   string
	tokens atomic.Pointer[[][]byte]
	expect atomic.Int32
}

func newControl(mix []Class) *Control {
	c := &Control{}
	for _, m := range mix {
		lc := &liveClass{name: m.Name}
		tokens := m.Tokens
		lc.tokens.Store(&tokens)
		lc.expect.Store(int32(expectOrOK(m.Expect)))
		c.classes = append(c.classes, lc)
	}
	return c
}

func expectOrOK(status int) int {
	if status == 0 {
		return 200
	}
	return status
}

func (c *Control) class(name string) (*liveClass, error) {
	for _, lc := range c.classes {
		if lc.name == name {
			return lc, nil
		}
	}
	return nil, fmt.Errorf("loadgen: no class %q in the mix", name)
}

// SetTokens replaces the tokens of the named class (for instance with tokens
// signed by a new key after a rotation). The slice must not be modified
// afterwards.
func (c *Control) SetTokens(class string, tokens [][]byte) error {
	lc, err := c.class(class)
	if err != nil {
		return err
	}
	lc.tokens.Store(&tokens)
	return nil
}

// SetExpect changes the status the named class should get (0 means 200).
func (c *Control) SetExpect(class string, status int) error {
	lc, err := c.class(class)
	if err != nil {
		return err
	}
	if status != 0 && (status < 100 || status > 599) {
		return fmt.Errorf("loadgen: %d is not an HTTP status", status)
	}
	lc.expect.Store(int32(expectOrOK(status)))
	return nil
}
