package main

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

// pair is a first apply into an empty namespace and the same apply again,
// unchanged.
type pair struct{ first, again result }

func (p *pair) merge(o pair) {
	p.first.merge(o.first)
	p.again.merge(o.again)
}

func (r *result) merge(o result) {
	r.times = append(r.times, o.times...)
	r.peakRSS = max(r.peakRSS, o.peakRSS)
}

// applyResults are the ways of applying one input, over the runs.
type applyResults struct {
	reconcile, applyOnly, kubectlK, kubectlF pair
	// unlimited is apply only with the client's rate limiter off.
	unlimited pair
	// binary is the reconcile function binary's first apply (and, for the
	// generated overlay, the same again).
	binary pair
	// What each run applied, for the drift checks.
	binRepos []*configRepo
	kubectl  []*rendered
}

func (r *applyResults) merge(o *applyResults) {
	for _, p := range []struct{ dst, src *pair }{
		{&r.reconcile, &o.reconcile}, {&r.applyOnly, &o.applyOnly}, {&r.unlimited, &o.unlimited},
		{&r.kubectlK, &o.kubectlK}, {&r.kubectlF, &o.kubectlF}, {&r.binary, &o.binary},
	} {
		p.dst.merge(*p.src)
	}
	r.binRepos = append(r.binRepos, o.binRepos...)
	r.kubectl = append(r.kubectl, o.kubectl...)
}

// ways says which of the optional ways of applying a run includes.
type ways struct {
	applyOnly   bool // Sluice's apply alone, in this process
	inProcess   bool // the reconcile use case in this process
	kubectlK    bool // kubectl apply -k besides -f
	unlimited   bool // apply only without the client rate limiter
	binaryAgain bool // the reconcile binary a second time, unchanged
}

const (
	kubectlK = "`kubectl apply --server-side -k`"
	kubectlF = "`kubectl apply --server-side -f`"
)

// fixtureRows applies the fixture, each way into its own fresh namespace,
// first and again unchanged: Sluice's reconcile use case (shallow clone,
// render, staged server-side apply, inventory), Sluice's apply alone on the
// rendered objects, `kubectl apply --server-side -k` and `-f` on kubectl's
// own build; and the reconcile binary, cold. Run 0 is a warm-up.
func (b *bench) fixtureRows(ctx context.Context) ([]row, error) {
	in := b.fixture()
	res, err := b.applyRuns(ctx, in, b.opts.runs, true, ways{applyOnly: true, inProcess: true, kubectlK: true})
	if err != nil {
		return nil, err
	}
	n := fmt.Sprintf("fixture (%d objects)", in.objects)
	return []row{
		{work: n + ", first apply: reconcile (clone + render + apply) vs " + kubectlK, sluice: &res.reconcile.first, ref: &res.kubectlK.first},
		{work: n + ", first apply: apply only vs " + kubectlF, sluice: &res.applyOnly.first, ref: &res.kubectlF.first},
		{work: n + ", unchanged: reconcile vs " + kubectlK, sluice: &res.reconcile.again, ref: &res.kubectlK.again},
		{work: n + ", unchanged: apply only vs " + kubectlF, sluice: &res.applyOnly.again, ref: &res.kubectlF.again},
		b.binaryRow("reconcile", n+", first apply: reconcile function binary, cold (exec → exit) vs "+kubectlK, &res.binary.first, &res.kubectlK.first),
	}, nil
}

// Flux's figures and the targets for 1,000 objects, quoted from DESIGN.md's
// "Performance to beat" (kustomize-controller on this kind of machine,
// against the same kube-apiserver).
const (
	fluxFirst, fluxAgain         = "11.0 s", "5.5 s"
	targetFirst, targetAgain     = "≤ 3 s", "≤ 1.5 s"
	targetDrift, targetMemoryMiB = "≤ 2 s", 256
)

// overlayRows applies the generated overlay: the reconcile function binary
// (at this size its start-up is noise, and it gives the peak memory),
// Sluice's apply alone, and `kubectl apply --server-side -f`, each first and
// again unchanged; with -diagnose also Sluice's apply with the client rate
// limiter off, which shows what the limiter costs. Then it checks the
// applied objects for drift. The fixture warmed everything up.
func (b *bench) overlayRows(ctx context.Context) ([]row, error) {
	in, err := b.generated(b.opts.objects)
	if err != nil {
		return nil, err
	}
	res, err := b.applyRuns(ctx, in, b.opts.slowRuns, false, ways{applyOnly: true, unlimited: b.opts.diagnose, binaryAgain: true})
	if err != nil {
		return nil, err
	}
	d, err := b.driftRuns(ctx, in, res)
	if err != nil {
		return nil, err
	}
	b.scaled["first"], b.scaled["again"], b.scaled["drift"] = &res.binary.first, &res.binary.again, &d.binary
	n := fmt.Sprintf("%s objects", count(in.objects))
	bin := "reconcile function binary (clone + render + apply; exec → exit)"
	rows := []row{
		b.binaryRow("reconcile", n+", first apply: "+bin+" vs "+kubectlF, &res.binary.first, &res.kubectlF.first).quoting(fluxFirst, targetFirst),
		{work: n + ", first apply: apply only vs " + kubectlF, sluice: &res.applyOnly.first, ref: &res.kubectlF.first},
		b.binaryRow("reconcile", n+", unchanged (new container, same revision): "+bin+" vs "+kubectlF, &res.binary.again, &res.kubectlF.again).quoting(fluxAgain, targetAgain),
		{work: n + ", unchanged: apply only vs " + kubectlF, sluice: &res.applyOnly.again, ref: &res.kubectlF.again},
	}
	if b.opts.diagnose {
		rows = append(rows,
			row{work: n + ", first apply: apply only, client rate limit off vs " + kubectlF, sluice: &res.unlimited.first, ref: &res.kubectlF.first},
			row{work: n + ", unchanged: apply only, client rate limit off vs " + kubectlF, sluice: &res.unlimited.again, ref: &res.kubectlF.again})
	}
	return append(rows, b.binaryRow("drift", n+", drift check: drift function binary (clone + render + diff; exec → exit) vs `kubectl diff --server-side`", &d.binary, &d.kubectl).quoting("n/a", targetDrift)), nil
}

// largeRows applies the large generated overlay, one Kustomization, through
// the reconcile binary (first, then unchanged) and checks it with the drift
// binary, beside kubectl; each row says how its time grew from the
// -objects overlay's (linear growth is the ratio of the sizes).
func (b *bench) largeRows(ctx context.Context) ([]row, error) {
	in, err := b.generated(b.opts.large)
	if err != nil {
		return nil, err
	}
	res, err := b.applyRuns(ctx, in, 1, false, ways{binaryAgain: true})
	if err != nil {
		return nil, err
	}
	d, err := b.driftRuns(ctx, in, res)
	if err != nil {
		return nil, err
	}
	b.scaled["large first"], b.scaled["large again"], b.scaled["large drift"] = &res.binary.first, &res.binary.again, &d.binary
	n := fmt.Sprintf("%s objects, one Kustomization", count(in.objects))
	growth := func(what string, r *result) string {
		base := b.scaled[what]
		if base == nil || base.median() == 0 || r.median() == 0 {
			return ""
		}
		return fmt.Sprintf(" (×%.1f the %s-object time, size ×%.0f)", float64(r.median())/float64(base.median()), count(b.opts.objects), float64(b.opts.large)/float64(b.opts.objects))
	}
	return []row{
		b.binaryRow("reconcile", n+", first apply: reconcile binary vs "+kubectlF+growth("first", &res.binary.first), &res.binary.first, &res.kubectlF.first),
		b.binaryRow("reconcile", n+", unchanged: reconcile binary vs "+kubectlF+growth("again", &res.binary.again), &res.binary.again, &res.kubectlF.again),
		b.binaryRow("drift", n+", drift check: drift binary vs `kubectl diff --server-side`"+growth("drift", &d.binary), &d.binary, &d.kubectl),
	}, nil
}

// memoryRow is the largest peak resident set of the function binaries that
// applied or checked the generated overlays, against the target (Flux's
// controllers use 220+ MiB, always on: DESIGN.md).
func (b *bench) memoryRow() row {
	var peak int64
	for _, r := range b.scaled {
		peak = max(peak, r.peakRSS)
	}
	work := fmt.Sprintf("peak memory of a function binary on %s objects", count(b.opts.objects))
	if b.opts.large > 0 {
		work = fmt.Sprintf("peak memory of a function binary on %s and %s objects", count(b.opts.objects), count(b.opts.large))
	}
	return row{work: work, fixed: []string{mib(peak), fmt.Sprintf("≤ %d MiB", targetMemoryMiB), "—", "—", "220+ MiB, always on", mib(peak), "—", "—"}}
}

// binaryRow is a row measured through a function binary, or why it was not.
func (b *bench) binaryRow(name, work string, sluice, ref *result) row {
	if _, ok := b.bins[name]; !ok {
		return row{work: work, missing: "not measured: " + b.whyNot(name)}
	}
	return row{work: work, sluice: sluice, ref: ref}
}

// applyRuns runs every way of applying in, runs times (after a warm-up run
// when warmUp), interleaved so that background load hits all of them alike.
func (b *bench) applyRuns(ctx context.Context, in input, runs int, warmUp bool, w ways) (*applyResults, error) {
	res := &applyResults{}
	first := 1
	if warmUp {
		first = 0
	}
	for i := first; i <= runs; i++ {
		got := &applyResults{}
		if err := b.applyOnce(ctx, in, w, got); err != nil {
			return nil, err
		}
		label := fmt.Sprintf("run %d of %d", i, runs)
		if i == 0 {
			label = "warm-up"
		}
		b.logf("  %s, %s: %s", in.name, label, got.summary())
		if i > 0 {
			res.merge(got)
		}
	}
	return res, nil
}

// summary lists one run's times, first/again, for the progress log.
func (r *applyResults) summary() string {
	var parts []string
	for _, p := range []struct {
		name string
		p    *pair
	}{{"reconcile", &r.reconcile}, {"apply only", &r.applyOnly}, {"rate limit off", &r.unlimited}, {"kubectl -k", &r.kubectlK}, {"kubectl -f", &r.kubectlF}} {
		if len(p.p.first.times) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s/%s", p.name, duration(p.p.first.median()), duration(p.p.again.median())))
		}
	}
	if len(r.binary.first.times) > 0 {
		parts = append(parts, "binary "+duration(r.binary.first.median()))
	}
	if len(r.binary.again.times) > 0 {
		parts[len(parts)-1] += "/" + duration(r.binary.again.median())
	}
	return strings.Join(parts, ", ")
}

// applyOnce applies in once each way, first and again, into fresh namespaces.
func (b *bench) applyOnce(ctx context.Context, in input, w ways, res *applyResults) error {
	prefix := in.name[:3]
	if w.inProcess {
		cr, err := b.seedRepo(ctx, in, prefix+"-rec")
		if err != nil {
			return err
		}
		if err := b.reconcileTwice(ctx, cr, in.objects, &res.reconcile); err != nil {
			return err
		}
	}
	if w.applyOnly {
		if err := b.applyTwice(ctx, b.cluster, in, prefix+"-apply", &res.applyOnly); err != nil {
			return err
		}
	}
	if w.unlimited {
		if err := b.applyTwice(ctx, b.unlimited, in, prefix+"-nolimit", &res.unlimited); err != nil {
			return err
		}
	}
	r, err := b.kubectlTwice(ctx, in, "-f", prefix+"-kubectlf", &res.kubectlF)
	if err != nil {
		return err
	}
	res.kubectl = append(res.kubectl, r)
	if w.kubectlK {
		if _, err := b.kubectlTwice(ctx, in, "-k", prefix+"-kubectlk", &res.kubectlK); err != nil {
			return err
		}
	}
	if _, ok := b.bins["reconcile"]; !ok {
		return nil
	}
	br, err := b.seedRepo(ctx, in, prefix+"-bin")
	if err != nil {
		return err
	}
	steps := []struct {
		dst  *result
		want kube.Action
	}{{&res.binary.first, kube.Created}, {&res.binary.again, kube.Unchanged}}
	if !w.binaryAgain {
		steps = steps[:1]
	}
	for _, step := range steps {
		p, err := b.reconcileBinary(ctx, br, in.objects, step.want)
		if err != nil {
			return err
		}
		step.dst.addProc(p)
	}
	res.binRepos = append(res.binRepos, br)
	return nil
}

// reconcileTwice runs Sluice's reconcile use case on cr, as the reconcile
// function runs it for a push: first into the empty namespace, then again.
func (b *bench) reconcileTwice(ctx context.Context, cr *configRepo, n int, dst *pair) error {
	rec := reconcile.New(cr.repo, cr.git, b.cluster, nil)
	for _, step := range []struct {
		dst  *result
		want kube.Action
	}{{&dst.first, kube.Created}, {&dst.again, kube.Unchanged}} {
		var out *reconcile.Result
		d, err := timed(func() (err error) {
			out, err = rec.Reconcile(ctx, queue.Reconcile{Repository: cr.repo.ID(), Branch: branch, Reason: queue.ReasonPush})
			return err
		})
		if err != nil {
			return fmt.Errorf("reconciling %s: %w", cr.url, err)
		}
		if err := expectChanges(allChanges(out), step.want, n); err != nil {
			return fmt.Errorf("reconcile of %s: %w", cr.ns, err)
		}
		step.dst.add(d)
	}
	return nil
}

// applyTwice renders in into a fresh namespace, then applies the objects and
// records them in the inventory, as the reconcile use case does after
// rendering: first, then again.
func (b *bench) applyTwice(ctx context.Context, m *kube.Manager, in input, what string, dst *pair) error {
	r, err := b.renderFor(ctx, in, what)
	if err != nil {
		return err
	}
	for _, step := range []struct {
		dst  *result
		want kube.Action
	}{{&dst.first, kube.Created}, {&dst.again, kube.Unchanged}} {
		objs := make([]*unstructured.Unstructured, len(r.objects))
		for i, o := range r.objects {
			objs[i] = o.DeepCopy()
		}
		var changes []kube.Change
		d, err := timed(func() error {
			if _, err := m.Inventory(ctx, r.owner); err != nil {
				return err
			}
			var err error
			if changes, err = m.Apply(ctx, objs, kube.ApplyOptions{}); err != nil {
				return err
			}
			entries := make([]kube.Entry, 0, len(objs))
			for _, o := range objs {
				entries = append(entries, kube.EntryFor(o))
			}
			return m.SaveInventory(ctx, kube.Inventory{Owner: r.owner, Source: "bench/apply-only@" + branch, Revision: "rendered", Prune: true, Entries: entries})
		})
		if err != nil {
			return fmt.Errorf("applying into %s: %w", r.ns, err)
		}
		if err := expectChanges(changes, step.want, in.objects); err != nil {
			return fmt.Errorf("apply into %s: %w", r.ns, err)
		}
		step.dst.add(d)
	}
	return nil
}

// kubectlTwice renders in into a fresh namespace for kubectl and runs
// `kubectl apply --server-side` with flag (-f: the built YAML, -k: the
// kustomization) twice, checking each time that it applied every object.
func (b *bench) kubectlTwice(ctx context.Context, in input, flag, what string, dst *pair) (*rendered, error) {
	r, err := b.renderFor(ctx, in, what)
	if err != nil {
		return nil, err
	}
	arg := r.yaml
	if flag == "-k" {
		arg = r.kustomize
	}
	for _, res := range []*result{&dst.first, &dst.again} {
		p, err := b.kubectlRun(ctx, "apply", "--server-side", flag, arg)
		if err != nil {
			return nil, err
		}
		if p.code != 0 {
			return nil, fmt.Errorf("kubectl apply --server-side %s %s exited %d: %s", flag, arg, p.code, p.tail())
		}
		if got := strings.Count(string(p.stdout), " serverside-applied"); got != in.objects {
			return nil, fmt.Errorf("kubectl apply --server-side %s %s applied %d objects, want %d", flag, arg, got, in.objects)
		}
		res.addProc(p)
	}
	return r, nil
}

func allChanges(res *reconcile.Result) []kube.Change {
	var out []kube.Change
	for _, k := range res.Kustomizations {
		out = append(out, k.Changes...)
	}
	return out
}

// expectChanges checks that every one of n objects had action want, so a
// bench that silently measured nothing (or the wrong thing) fails instead.
func expectChanges(changes []kube.Change, want kube.Action, n int) error {
	got := 0
	for _, c := range changes {
		if c.Action == want {
			got++
		}
	}
	if got != n || len(changes) != n {
		return fmt.Errorf("%d of %d changes were %q, want all %d", got, len(changes), want, n)
	}
	return nil
}

// count formats n with thousands separators.
func count(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
