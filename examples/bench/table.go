package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/discovery"

	"github.com/sluice-gitops/sluice/internal/kube"
)

// row is one line of the table: Sluice's measurement against kubectl's on the
// same work (ref nil: kubectl has no counterpart), or why it was not measured.
type row struct {
	work        string
	sluice, ref *result
	missing     string
	// flux is Flux's figure for the same work, quoted (DESIGN.md); target
	// is the design's.
	flux, target string
	// fixed are the cells after work of a row that is not a timing.
	fixed []string
}

// quoting is r with Flux's figure and the target.
func (r row) quoting(flux, target string) row {
	r.flux, r.target = flux, target
	return r
}

// writeTable prints the Markdown the README's Performance section holds.
func writeTable(w io.Writer, rows []row, machine string, notes []string) {
	fmt.Fprintf(w, "Measured by `make bench` on %s. %s\n\n", time.Now().UTC().Format("2006-01-02"), machine)
	fmt.Fprintln(w, "| work | Sluice | target | kubectl | kubectl ÷ Sluice | Flux (quoted) | Sluice peak RSS | kubectl peak RSS | runs |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		if r.fixed != nil {
			fmt.Fprintf(w, "| %s | %s |\n", r.work, strings.Join(r.fixed, " | "))
			continue
		}
		if r.missing == "" && (r.sluice == nil || len(r.sluice.times) == 0) {
			r.missing = "not measured (the function binary it needs did not build)"
		}
		if r.missing != "" {
			fmt.Fprintf(w, "| %s | n/a | %s | — | — | %s | — | — | 0 |\n", r.work, dash(r.target), dash(r.flux))
			notes = append(notes, r.work+": "+r.missing+".")
			continue
		}
		kubectl, ratio, kubectlRSS := "—", "—", "—"
		if r.ref != nil {
			kubectl, kubectlRSS = duration(r.ref.median()), mib(r.ref.peakRSS)
			ratio = fmt.Sprintf("×%.2g", float64(r.ref.median())/float64(r.sluice.median()))
			if f := float64(r.ref.median()) / float64(r.sluice.median()); f >= 10 {
				ratio = fmt.Sprintf("×%.0f", f)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.work, duration(r.sluice.median()), dash(r.target), kubectl, ratio, dash(r.flux), mib(r.sluice.peakRSS), kubectlRSS, runs(r))
	}
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintln(w, "- "+n)
	}
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func runs(r row) string {
	s := len(r.sluice.times)
	if r.ref == nil || len(r.ref.times) == s {
		return strconv.Itoa(s)
	}
	return fmt.Sprintf("%d / %d", s, len(r.ref.times))
}

// duration formats d with three significant digits at most.
func duration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
}

// mib formats a peak resident set; 0 means measured in process (no process
// of its own to read it from).
func mib(bytes int64) string {
	if bytes == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", float64(bytes)/(1<<20))
}

// notes explain the table's terms and list the binaries' sizes.
func (b *bench) notes() []string {
	notes := []string{
		"Medians (runs: Sluice / kubectl when they differ). Every first apply starts from an empty fresh namespace; \"unchanged\" applies the same again. Each measurement is checked (every object created, then unchanged, then in sync; the message queued; the commit pushed) or the bench fails.",
		"reconcile: Sluice's reconcile use case in this process: shallow clone from a local Git smart-HTTP server, Flux objects, render, staged server-side apply, inventory. Its Kubernetes client is kept across runs, as a warm Lambda keeps it; run 0 is a warm-up. apply only: the same apply and inventory on objects rendered beforehand. Sluice's client has its production rate limits (" + fmt.Sprintf("%d QPS, burst %d", kube.DefaultQPS, kube.DefaultBurst) + ").",
		"function binary: built as `make build` builds it, for this machine, and run by its local runner on one event: exec → exit, so process start and a new Kubernetes client are included (a cold Lambda start, less Lambda's own). Peak RSS is the process's resident high-water mark (VmHWM, read every 2 ms while it runs). The reconcile binary also sets a commit status on a GitHub stand-in; SQS and ECR are local stand-ins speaking their protocols.",
		"Flux (quoted): kustomize-controller's figures from DESIGN.md's \"Performance to beat\", measured on this kind of machine against the same kube-apiserver; not re-measured here (the bench runs no Flux). target: the design's, for the 1,000-object rows.",
		"kubectl: one process per run, the API server's version, its discovery cache warm; `-k` builds the kustomization itself, `-f` applies `kubectl kustomize`'s output. `kubectl diff` uses the apply's field manager.",
	}
	var shares []string
	for _, n := range slices.Sorted(maps.Keys(b.renders)) {
		shares = append(shares, fmt.Sprintf("%s objects %s", count(n), duration(b.renders[n].median())))
	}
	notes = append(notes, "The render's share of the binary rows (the same overlay rendered in this process by internal/render, median): "+strings.Join(shares, ", ")+"; the rest is clone, apply or diff, inventory and start-up.")
	var sizes []string
	for _, name := range slices.Sorted(maps.Keys(b.binSizes)) {
		sizes = append(sizes, fmt.Sprintf("%s %.1f MiB", name, float64(b.binSizes[name])/(1<<20)))
	}
	notes = append(notes, fmt.Sprintf("Function binaries (%s/%s, stripped): %s.", runtime.GOOS, runtime.GOARCH, strings.Join(sizes, ", ")))
	return notes
}

// machine describes what the bench ran on.
func (b *bench) machine(ctx context.Context) (string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(b.env.Config)
	if err != nil {
		return "", err
	}
	server, err := dc.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("asking the API server its version: %w", err)
	}
	kubectl := "kubectl (version unknown)"
	if p, err := b.kubectlRun(ctx, "version", "--client", "-o", "json"); err == nil && p.code == 0 {
		var v struct {
			ClientVersion struct{ GitVersion string } `json:"clientVersion"`
		}
		if json.Unmarshal(p.stdout, &v) == nil {
			kubectl = "kubectl " + v.ClientVersion.GitVersion
		}
	}
	etcd := "etcd"
	if p, err := runProc(ctx, nil, nil, filepath.Join(b.assets, "etcd"), "--version"); err == nil && p.code == 0 {
		if f := strings.Fields(firstLine(string(p.stdout))); len(f) > 0 {
			etcd = "etcd " + f[len(f)-1]
		}
	}
	return fmt.Sprintf("Machine: %d CPUs (%s), %s RAM, load average %s when the bench started; %s %s/%s; kube-apiserver %s and %s (local, envtest); %s.",
		runtime.NumCPU(), procField("/proc/cpuinfo", "model name"), memTotal(), b.load, runtime.Version(), runtime.GOOS, runtime.GOARCH,
		server.GitVersion, etcd, kubectl), nil
}

// procField is the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotal() string {
	kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// loadAverage is the one-minute load average: on a shared machine it says
// how much else ran.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
