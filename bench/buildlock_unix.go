//go:build unix

package bench

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on the file at path (creating it), so
// that processes building the same binary at once build it once; unlock
// releases it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}
