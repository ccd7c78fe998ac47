package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

// The bench's fixed values, known only to its own local servers.
const (
	gitUser   = "x-access-token"
	gitToken  = "sluice-bench-token"
	branch    = "main"
	fixtureNS = "prod" // the fixture's targetNamespace, for the render item
)

// bench is everything the measurements run on.
type bench struct {
	opts options
	logf func(string, ...any)

	root       string // the Sluice source tree
	work       string // temporary folder for everything the bench writes
	log        *os.File
	progress   *os.File // the bench's own standard error
	env        *kubetest.Env
	assets     string // folder of kube-apiserver and etcd
	kubectl    string
	kubeconfig string
	// cluster is Sluice's client with its production rate limits, created
	// once and reused, as a warm Lambda reuses it across invocations.
	cluster *kube.Manager
	// unlimited is the same client with its rate limiter off, to show what
	// the limiter costs.
	unlimited *kube.Manager
	git       *gittest.Server
	sqs       *awstest.SQSServer
	github    *githubStatuses
	// bins maps each function to its binary; buildErrs holds the functions
	// that did not build (someone may be writing one right now).
	bins      map[string]string
	buildErrs map[string]error
	binSizes  map[string]int64
	// overlays are the generated kustomize trees (kustomize roots of
	// OverlayPath) by size.
	overlays map[int]string
	// scaled holds the 1,000-object (-objects) figures the large overlay's
	// growth is reckoned from.
	scaled map[string]*result
	// renders are the in-process renders renderFor made, by object count:
	// the render's share of the binaries' times.
	renders map[int]*result
	// load is the load average when the bench started.
	load    string
	seq     int
	cleanup []func()
}

func (b *bench) close() {
	for i := len(b.cleanup) - 1; i >= 0; i-- {
		b.cleanup[i]()
	}
}

func (b *bench) logPath() string { return b.log.Name() }

// newBench starts the API server (with the fixture's Issuer CRD), builds the
// function binaries and kubectl, and starts the Git server, the SQS stand-in
// and the GitHub statuses stand-in.
func newBench(ctx context.Context, o options, logf func(string, ...any)) (_ *bench, err error) {
	b := &bench{opts: o, logf: logf, root: kubetest.RepoRoot(), load: loadAverage(), bins: map[string]string{},
		buildErrs: map[string]error{}, binSizes: map[string]int64{},
		overlays: map[int]string{}, scaled: map[string]*result{}, renders: map[int]*result{}}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	if b.work, err = os.MkdirTemp("", "sluice-bench-"); err != nil {
		return nil, err
	}
	if !o.keep {
		b.cleanup = append(b.cleanup, func() { os.RemoveAll(b.work) })
	}
	// Before the logs are redirected: building the API server the first
	// time takes minutes, and its progress is worth seeing.
	if b.assets, err = kubetest.AssetsDir(); err != nil {
		return nil, err
	}
	if err := b.quietLogs(); err != nil {
		return nil, err
	}
	// Building the binaries and starting the API server overlap: both take
	// seconds and neither needs the other.
	var wg sync.WaitGroup
	var buildErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		buildErr = b.buildFunctions(ctx)
	}()
	logf("starting kube-apiserver and etcd from %s", b.assets)
	env, startErr := kubetest.Start(kubetest.Options{CRDFiles: kubetest.FixtureCRDs()})
	wg.Wait()
	if startErr != nil {
		return nil, startErr
	}
	b.env = env
	b.cleanup = append(b.cleanup, func() { env.Stop() })
	if buildErr != nil {
		return nil, buildErr
	}
	if err := b.setupClients(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bench) setupClients(ctx context.Context) (err error) {
	if b.kubectl, err = b.buildKubectl(ctx); err != nil {
		return err
	}
	if b.kubeconfig, err = b.env.Kubeconfig(b.work); err != nil {
		return err
	}
	// kubetest raises the rate limits for tests; Sluice in Lambda runs with
	// its own defaults, so the in-process side gets those.
	cfg := rest.CopyConfig(b.env.Config)
	cfg.QPS, cfg.Burst = 0, 0
	if b.cluster, err = kube.New(cfg); err != nil {
		return err
	}
	cfg.QPS = -1 // client-go: a negative QPS means no client-side rate limiter
	if b.unlimited, err = kube.New(cfg); err != nil {
		return err
	}
	if b.git, err = gittest.Start(gitUser, gitToken); err != nil {
		return err
	}
	b.cleanup = append(b.cleanup, b.git.Stop)
	b.sqs = awstest.NewSQSServer()
	b.cleanup = append(b.cleanup, b.sqs.Close)
	b.github = newGitHubStatuses()
	b.cleanup = append(b.cleanup, b.github.Close)
	return nil
}

// quietLogs sends the logs of Sluice's in-process work (one line per applied
// object, as in Lambda) and of the Kubernetes client libraries to a file, so
// the bench's own output stays readable. Writing them still costs what it
// costs in Lambda.
func (b *bench) quietLogs() error {
	f, err := os.Create(filepath.Join(b.work, "bench.log"))
	if err != nil {
		return err
	}
	b.log = f
	b.cleanup = append(b.cleanup, func() { f.Close() })
	slog.SetDefault(slog.New(slog.NewTextHandler(f, nil)))
	ctrllog.SetLogger(logr.Discard())
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	klog.SetOutput(f)
	// kustomize prints its deprecation warnings straight to os.Stderr.
	stderr := os.Stderr
	os.Stderr = f
	b.cleanup = append(b.cleanup, func() { os.Stderr = stderr })
	b.progress = stderr
	return nil
}

// buildKubectl builds kubectl at the API server's version with the project's
// script (cached after the first time) and returns its path.
func (b *bench) buildKubectl(ctx context.Context) (string, error) {
	script := filepath.Join(b.root, "tools", "envtest", "build.sh")
	cmd := exec.CommandContext(ctx, "bash", script, "--kubectl")
	cmd.Stderr = b.progress // the first build takes minutes
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("building kubectl with %s --kubectl: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	path := filepath.Join(lines[len(lines)-1], "kubectl")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("kubectl not where %s said: %w", script, err)
	}
	return path, nil
}

// buildFunctions builds every functions/<name> for this machine as `make
// build` builds them for Lambda (same tags and flags; host OS and
// architecture). A function that does not build is left out with its error:
// the bench reports it as not measured.
func (b *bench) buildFunctions(ctx context.Context) error {
	entries, err := os.ReadDir(filepath.Join(b.root, "functions"))
	if err != nil {
		return fmt.Errorf("listing functions: %w", err)
	}
	dir := filepath.Join(b.work, "bin")
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	b.logf("building the function binaries for this machine: %s", strings.Join(names, ", "))
	for _, name := range names {
		out := filepath.Join(dir, name)
		cmd := exec.CommandContext(ctx, goTool(), "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+name)
		cmd.Dir = b.root
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.buildErrs[name] = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(msg)))
			b.logf("functions/%s does not build; it is left out: %v", name, b.buildErrs[name])
			continue
		}
		info, err := os.Stat(out)
		if err != nil {
			return err
		}
		b.bins[name], b.binSizes[name] = out, info.Size()
	}
	if len(b.bins) == 0 {
		return errors.New("no function binary built")
	}
	return nil
}

// goTool is the go command that runs the bench: $GOROOT/bin/go when GOROOT is
// set, else go from PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// name returns a fresh name for what.
func (b *bench) name(what string) string {
	b.seq++
	return fmt.Sprintf("%s-%d", what, b.seq)
}

// namespace creates a fresh namespace named after what uses it: envtest
// never finishes deleting one, and every first apply starts from empty.
func (b *bench) namespace(ctx context.Context, what string) (string, error) {
	ns := b.name(what)
	return ns, kubetest.CreateNamespace(ctx, b.env.Config, ns)
}

// kubectlRun runs kubectl with the bench's kubeconfig and a home of its own
// (whose discovery cache the warm-up fills, as on a user's machine).
func (b *bench) kubectlRun(ctx context.Context, args ...string) (proc, error) {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Join(b.work, "home"), "KUBECONFIG=" + b.kubeconfig}
	return runProc(ctx, env, nil, b.kubectl, args...)
}

// writeFile writes content to path, creating its folder.
func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}
