// Package cli is the `sluice` command: Flux's CLI verbs over what Sluice's
// functions record in the cluster and in Git, built on the same packages the
// functions use, so that what it shows and does is what they would.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/eksauth"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// IO is where the command reads and writes.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
}

// Exit codes, as Flux's CLI: 0 success, 1 "differences found" (diff) and
// any other failure, 2 a usage error.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// ExitError ends the command with Code, after Err (if any) is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// App holds the global flags and the clients the commands share, built on
// first use so that `sluice build` needs no cluster and `--help` no AWS.
type App struct {
	IO
	// lookupEnv reads the process environment (os.LookupEnv; tests pass their own).
	lookupEnv func(string) (string, bool)

	Namespace     string
	AllNamespaces bool
	Kubeconfig    string
	ClusterName   string
	Stack         string
	Output        string

	// stackEnv holds the SLUICE_* values a deployed stack (--stack) defines;
	// they come before the process environment, flags before both.
	stackEnv map[string]string

	clusterOnce sync.Once
	cluster     *kube.Manager
	clusterErr  error
}

// Run runs the command line args and returns the process's exit code.
func Run(ctx context.Context, args []string, stdio IO, lookupEnv func(string) (string, bool)) int {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	app := &App{IO: stdio, lookupEnv: lookupEnv}
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	slog.SetDefault(slog.New(slog.NewTextHandler(stdio.Err, &slog.HandlerOptions{Level: slog.LevelWarn})))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintln(stdio.Err, "✗", exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintln(stdio.Err, "✗", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFail
}

func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "See and steer what Sluice applied: Flux's verbs for Sluice's functions",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return app.setup(cmd.Context())
		},
	}
	f := root.PersistentFlags()
	f.StringVarP(&app.Namespace, "namespace", "n", "flux-system", "the namespace of the Flux objects")
	f.BoolVarP(&app.AllNamespaces, "all-namespaces", "A", false, "list the objects of every namespace")
	f.StringVar(&app.Kubeconfig, "kubeconfig", "", "the kubeconfig to use (default: KUBECONFIG, then ~/.kube/config)")
	f.StringVar(&app.ClusterName, "cluster", "", "the EKS cluster, reached with IAM as the functions do (default: SLUICE_CLUSTER_NAME)")
	f.StringVar(&app.Stack, "stack", "", "take the repository, branch, path, cluster and queues from this deployed CloudFormation stack")
	f.StringVarP(&app.Output, "output", "o", "table", "output format: table, json or yaml")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newBuildCmd(app), newDiffCmd(app), newReconcileCmd(app))
	return root
}

// setup checks the global flags and, with --stack, reads the stack.
func (a *App) setup(ctx context.Context) error {
	switch a.Output {
	case "table", "json", "yaml":
	default:
		return usageErrorf("--output %q is not one of table, json, yaml", a.Output)
	}
	return nil
}

// getenv reads a SLUICE_* (or any) variable: a flag that sets it first, then
// the stack, then the environment.
func (a *App) getenv(name string) (string, bool) {
	switch {
	case name == "SLUICE_CLUSTER_NAME" && a.ClusterName != "":
		return a.ClusterName, true
	case name == clientcmd.RecommendedConfigPathEnvVar && a.Kubeconfig != "":
		return a.Kubeconfig, true
	}
	if v, ok := a.stackEnv[name]; ok {
		return v, true
	}
	return a.lookupEnv(name)
}

// Env reads configuration as the functions do (envconfig), through getenv.
func (a *App) Env() *envconfig.Env { return envconfig.New(a.getenv, secrets.New(nil)) }

// Repo is the config repository of the installation the command talks about.
func (a *App) Repo() (configrepo.Repository, error) {
	env := a.Env()
	r := configrepo.Load(env)
	if err := env.Err(); err != nil {
		return configrepo.Repository{}, fmt.Errorf("which installation? %w (or use --stack)", err)
	}
	return r, nil
}

// Cluster connects to the cluster once: the EKS cluster through IAM when one
// is named, else the kubeconfig.
func (a *App) Cluster(ctx context.Context) (*kube.Manager, error) {
	a.clusterOnce.Do(func() {
		name, _ := a.getenv("SLUICE_CLUSTER_NAME")
		if name == "" {
			if kc, ok := a.getenv(clientcmd.RecommendedConfigPathEnvVar); ok {
				// eksauth.FromKubeconfig reads KUBECONFIG as kubectl does.
				os.Setenv(clientcmd.RecommendedConfigPathEnvVar, kc)
			}
		}
		cfg, err := eksauth.ClusterConfig(ctx, name)
		if err != nil {
			a.clusterErr = err
			return
		}
		a.cluster, a.clusterErr = kube.New(cfg)
	})
	return a.cluster, a.clusterErr
}

type usageError struct{ error }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}
