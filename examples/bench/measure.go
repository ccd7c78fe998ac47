package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// result is what one side of a comparison measured over its runs.
type result struct {
	times []time.Duration
	// peakRSS is the largest resident set of the measured process over the
	// runs, in bytes; 0 when the work ran inside the bench (no process of
	// its own).
	peakRSS int64
}

func (r *result) add(d time.Duration) { r.times = append(r.times, d) }

// addProc records a child process's wall time and peak memory.
func (r *result) addProc(p proc) {
	r.add(p.elapsed)
	r.peakRSS = max(r.peakRSS, p.peakRSS)
}

// last is the latest run's time, 0 when none.
func (r *result) last() time.Duration {
	if len(r.times) == 0 {
		return 0
	}
	return r.times[len(r.times)-1]
}

// median is the median run time (the mean of the middle two for an even count).
func (r *result) median() time.Duration {
	if r == nil || len(r.times) == 0 {
		return 0
	}
	s := slices.Clone(r.times)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// timed runs fn and returns how long it took.
func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

// proc is one finished child process.
type proc struct {
	elapsed        time.Duration // exec → exit
	peakRSS        int64         // bytes
	code           int
	stdout, stderr []byte
}

// tail is the end of a process's stderr, for error messages.
func (p proc) tail() string {
	s := strings.TrimSpace(string(p.stderr))
	if len(s) > 2000 {
		s = "…" + s[len(s)-2000:]
	}
	return s
}

// runProc runs name with args, env and stdin (may be nil), timing it from
// just before exec to its exit, and samples its peak resident set. A
// non-zero exit is not an error here: the caller decides what each exit code
// means.
func runProc(ctx context.Context, env []string, stdin []byte, name string, args ...string) (proc, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return proc{}, fmt.Errorf("running %s: %w", name, err)
	}
	peak := samplePeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	p := proc{elapsed: time.Since(start), stdout: stdout.Bytes(), stderr: stderr.Bytes(), peakRSS: peak()}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return p, fmt.Errorf("running %s: %w", name, err)
	}
	p.code = cmd.ProcessState.ExitCode()
	return p, nil
}

// rssInterval is how often samplePeakRSS reads a process's high-water mark.
const rssInterval = 2 * time.Millisecond

// samplePeakRSS reads the process's resident high-water mark (VmHWM in
// /proc/<pid>/status) until the returned function is called, which gives the
// last value read. The rusage of the exited process cannot be used: Go
// starts children with vfork, and Linux counts the parent's memory, shared
// until exec, in the child's ru_maxrss, so every child would look as big as
// the bench. Growth in the last sampling interval before exit is missed.
func samplePeakRSS(pid int) func() int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	stop := make(chan struct{})
	done := make(chan int64)
	go func() {
		var peak int64
		tick := time.NewTicker(rssInterval)
		defer tick.Stop()
		for {
			if hwm, ok := readHWM(path); ok {
				peak = max(peak, hwm)
			}
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		return <-done
	}
}

// readHWM reads VmHWM (KiB) from a /proc status file, in bytes; false once
// the process has exited (its memory is gone).
func readHWM(path string) (int64, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
