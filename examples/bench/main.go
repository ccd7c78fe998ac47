// Command bench compares Sluice with kubectl side by side, in one run, on the
// same inputs and the same local kube-apiserver: rendering the fixture,
// applying it and a generated 1,000-object overlay (first into an empty
// namespace, then again unchanged), a drift check of the 1,000 objects, the
// cold start and peak memory of each function binary, and webhook → queued.
// It prints a Markdown table of medians and ratios, and the machine it ran on.
//
//	make bench                          # or:
//	KUBEBUILDER_ASSETS=... go run ./examples/bench -runs 5 -slow-runs 3 -diagnose
//
// Progress goes to standard error, the table to standard output.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

// options are the bench's knobs.
type options struct {
	// runs is how many timed runs fast items get; slowRuns is for items that
	// touch 1,000 objects (kubectl takes tens of seconds each).
	runs, slowRuns int
	// objects is the size of the generated overlay; large the size of the
	// large one (0: not measured).
	objects, large int
	// keep leaves the work folder (clones, rendered YAML, logs) in place.
	keep bool
	// diagnose adds Sluice's apply with the client rate limiter off.
	diagnose bool
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 5, "timed runs of fast items (median reported)")
	flag.IntVar(&o.slowRuns, "slow-runs", 1, "timed runs of items that touch the generated overlay (each takes minutes)")
	flag.IntVar(&o.objects, "objects", 1000, "objects in the generated overlay")
	flag.IntVar(&o.large, "large", 5000, "objects in the large generated overlay, one Kustomization (0: skip it)")
	flag.BoolVar(&o.keep, "keep", false, "keep the work folder (logs, rendered YAML) afterwards")
	flag.BoolVar(&o.diagnose, "diagnose", false, "also apply the overlay with the client rate limiter off")
	flag.Parse()
	if o.runs < 1 || o.slowRuns < 1 || o.objects < 3 || o.large != 0 && o.large < 3 {
		fmt.Fprintln(os.Stderr, "bench: -runs and -slow-runs must be at least 1, -objects (and -large unless 0) at least 3")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Stderr, o); err != nil {
		fmt.Fprintln(os.Stderr, "\nbench FAILED:", err)
		os.Exit(1)
	}
}

// run sets everything up, measures every item and prints the table to out,
// progress to progress.
func run(ctx context.Context, out, progress io.Writer, o options) error {
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(progress, "bench %5.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	b, err := newBench(ctx, o, logf)
	if err != nil {
		return err
	}
	defer b.close()

	var rows []row
	type step struct {
		what string
		fn   func(context.Context) ([]row, error)
	}
	steps := []step{
		{"rendering the fixture", b.renderRows},
		{"applying the fixture", b.fixtureRows},
		{fmt.Sprintf("applying and checking %d generated objects", o.objects), b.overlayRows},
	}
	if o.large > 0 {
		steps = append(steps, step{fmt.Sprintf("applying and checking %d generated objects in one Kustomization", o.large), b.largeRows})
	}
	steps = append(steps, step{"starting the function binaries", b.functionRows})
	for _, step := range steps {
		logf("%s", step.what)
		rs, err := step.fn(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", step.what, err)
		}
		rows = append(rows, rs...)
	}
	machine, err := b.machine(ctx)
	if err != nil {
		return err
	}
	logf("done; logs of Sluice's in-process work and the binaries are in %s", b.logPath())
	rows = append(rows, b.memoryRow())
	writeTable(out, rows, machine, b.notes())
	return nil
}
