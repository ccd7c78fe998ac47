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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/eksauth"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// The variables of the functions that the command reads beside configrepo's.
const (
	envClusterName      = "SLUICE_CLUSTER_NAME"
	envReconcileQueue   = "SLUICE_RECONCILE_QUEUE_URL"
	envImageQueue       = "SLUICE_IMAGE_QUEUE_URL"
	envWebhookSecret    = "SLUICE_WEBHOOK_SECRET"
	envWebhookSecretID  = "SLUICE_WEBHOOK_SECRET_ID"
	envGitTokenSecretID = "SLUICE_GIT_TOKEN_SECRET_ID"
	envGitSSHSecretID   = "SLUICE_GIT_SSH_KEY_SECRET_ID"
	envGitKnownHosts    = "SLUICE_GIT_KNOWN_HOSTS"
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
	restConfig  *rest.Config
	cluster     *kube.Manager
	clusterErr  error

	awsOnce sync.Once
	awsCfg  aws.Config
	awsErr  error
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
		Use:   "sluice",
		Short: "See and steer what Sluice applied: Flux's verbs for Sluice's functions",
		Long: `See and steer what Sluice applied: Flux's verbs for Sluice's functions.

Exit codes, as Flux's CLI: 0 success; 1 failure (a ✗ of check, an
uninstall that kept something, differences found by diff); 2 usage error.`,
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
	root.AddCommand(
		newGetCmd(app),
		newTreeCmd(app),
		newBuildCmd(app),
		newDiffCmd(app),
		newReconcileCmd(app),
		newSuspendCmd(app),
		newResumeCmd(app),
		newCheckCmd(app),
		newUninstallCmd(app),
	)
	return root
}

// setup checks the global flags and, with --stack, reads the stack.
func (a *App) setup(ctx context.Context) error {
	switch a.Output {
	case "table", "json", "yaml":
	default:
		return usageErrorf("--output %q is not one of table, json, yaml", a.Output)
	}
	if a.Stack != "" {
		return a.loadStack(ctx)
	}
	return nil
}

// getenv reads a SLUICE_* (or any) variable: a flag that sets it first, then
// the stack, then the environment.
func (a *App) getenv(name string) (string, bool) {
	switch {
	case name == envClusterName && a.ClusterName != "":
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

// installation is the installation the command talks about and its cluster.
func (a *App) installation(ctx context.Context) (configrepo.Repository, *kube.Manager, error) {
	repo, err := a.Repo()
	if err != nil {
		return configrepo.Repository{}, nil, err
	}
	cluster, err := a.Cluster(ctx)
	return repo, cluster, err
}

// Cluster connects to the cluster once: the EKS cluster through IAM when one
// is named, else the kubeconfig.
func (a *App) Cluster(ctx context.Context) (*kube.Manager, error) {
	a.clusterOnce.Do(func() {
		name, _ := a.getenv(envClusterName)
		if name == "" {
			if kc, ok := a.getenv(clientcmd.RecommendedConfigPathEnvVar); ok {
				// eksauth.FromKubeconfig reads KUBECONFIG as kubectl does.
				os.Setenv(clientcmd.RecommendedConfigPathEnvVar, kc)
			}
		}
		var opts []eksauth.Option
		if name != "" {
			cfg, err := a.AWS(ctx)
			if err != nil {
				a.clusterErr = err
				return
			}
			opts = append(opts, eksauth.WithAWSConfig(cfg))
		}
		cfg, err := eksauth.ClusterConfig(ctx, name, opts...)
		if err != nil {
			a.clusterErr = err
			return
		}
		a.restConfig = cfg
		a.cluster, a.clusterErr = kube.New(cfg)
	})
	return a.cluster, a.clusterErr
}

// AWS loads the AWS configuration once, as the functions do (the standard
// AWS_* variables, profiles and AWS_ENDPOINT_URL_<SERVICE>).
func (a *App) AWS(ctx context.Context) (aws.Config, error) {
	a.awsOnce.Do(func() {
		a.awsCfg, a.awsErr = config.LoadDefaultConfig(ctx)
		if a.awsErr != nil {
			a.awsErr = fmt.Errorf("loading the AWS configuration: %w", a.awsErr)
		}
	})
	return a.awsCfg, a.awsErr
}

// Git is the config repository, reached with the credentials the functions
// load (SLUICE_GIT_TOKEN, SLUICE_GIT_SSH_KEY or their Secrets Manager ids).
func (a *App) Git(ctx context.Context) (*gitrepo.Repo, configrepo.Repository, error) {
	env := a.Env()
	r := configrepo.Load(env)
	creds := gitrepo.LoadCredentials(ctx, env)
	if err := env.Err(); err != nil {
		return nil, r, fmt.Errorf("which installation? %w (or use --stack)", err)
	}
	repo, err := gitrepo.New(r.URL, creds)
	if err != nil {
		return nil, r, fmt.Errorf("the config repository: %w", err)
	}
	return repo, r, nil
}

// ReconcileQueue is the reconcile queue (SLUICE_RECONCILE_QUEUE_URL); nil
// when none is configured.
func (a *App) ReconcileQueue(ctx context.Context) (*queue.Sender, error) {
	url, _ := a.getenv(envReconcileQueue)
	if url == "" {
		return nil, nil
	}
	cfg, err := a.AWS(ctx)
	if err != nil {
		return nil, err
	}
	return queue.NewSender(sqs.NewFromConfig(cfg), url), nil
}

// Identity names who runs the command, as recorded beside what they did:
// the STS caller's ARN when the cluster is reached through EKS, else the
// kubeconfig's user and context.
func (a *App) Identity(ctx context.Context) (string, error) {
	if name, _ := a.getenv(envClusterName); name != "" {
		cfg, err := a.AWS(ctx)
		if err != nil {
			return "", err
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", fmt.Errorf("asking STS who the caller is: %w", err)
		}
		return aws.ToString(out.Arn), nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kc, ok := a.getenv(clientcmd.RecommendedConfigPathEnvVar); ok {
		rules.ExplicitPath = kc
	}
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	kctx, ok := raw.Contexts[raw.CurrentContext]
	if !ok {
		return "", fmt.Errorf("the kubeconfig has no current context")
	}
	return fmt.Sprintf("%s (kubeconfig context %s)", kctx.AuthInfo, raw.CurrentContext), nil
}

type usageError struct{ error }

func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// usageArgs makes a wrong number of arguments a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
