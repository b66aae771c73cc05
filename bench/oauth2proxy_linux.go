package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, fixed at
// 100 ticks per second by the kernel's ABI.
const userHZ = 100

// CPU returns the CPU time (user + system, every thread) oauth2-proxy has
// used so far, in nanoseconds, read from /proc/PID/stat at 10 ms
// resolution.
func (s *OAuth2ProxyServer) CPU() (int64, error) {
	return procCPU(s.PID())
}

// procCPU reads utime and stime of process pid from /proc.
func procCPU(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: CPU time of process %d: %w", pid, err)
	}
	// The command name in parentheses may hold spaces: fields count from
	// the last ')'. Field 3 (state) is the first after it; utime and stime
	// are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("bench: CPU time of process %d: unexpected /proc/%d/stat %q", pid, pid, b)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: CPU time of process %d: /proc/%d/stat: %w", pid, pid, err)
		}
		ticks += n
	}
	return ticks * (1e9 / userHZ), nil
}
