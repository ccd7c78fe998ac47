package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

func newBuildCmd(app *App) *cobra.Command {
	build := &cobra.Command{
		Use:   "build",
		Short: "Build a Kustomization from a local checkout of the config repository, as the reconcile function would",
	}
	var local localFlags
	var dryRun bool
	ks := &cobra.Command{
		Use:     "kustomization NAME",
		Aliases: []string{"ks", "kustomizations"},
		Short:   "Print the objects a Kustomization of a local checkout renders to, as applied (YAML)",
		Long: `Render the Kustomization NAME of the config folder of a local checkout (--path) with
the reconcile function's own code, ownership labels included, and print the objects as YAML.
postBuild.substituteFrom reads the cluster; --dry-run needs no cluster and leaves it out.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			snap, k, err := app.openLocal(ctx, local, args[0])
			if err != nil {
				return err
			}
			defer snap.Close()
			var vars desired.Variables = clusterVars{app}
			if dryRun {
				k.SubstituteFrom = nil
			}
			objs, err := snap.Render(ctx, k, vars)
			if err != nil {
				return err
			}
			return writeYAML(app, objs)
		},
	}
	local.register(ks.Flags())
	ks.Flags().BoolVar(&dryRun, "dry-run", false, "reach no cluster: leave postBuild.substituteFrom out")
	build.AddCommand(ks)
	return build
}

// localFlags name a local checkout of the config repository.
type localFlags struct {
	path, configPath string
}

func (f *localFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.path, "path", ".", "a local checkout of the config repository")
	fs.StringVar(&f.configPath, "config-path", "", "the folder of Flux objects in it (default: SLUICE_CONFIG_PATH)")
}

// openLocal reads the Flux objects of the checkout f names and returns the
// Kustomization name of the --namespace. The installation (SLUICE_GIT_URL,
// branch, config path) is the one the checkout is of: its ownership labels
// and the source check are the reconcile function's.
func (a *App) openLocal(ctx context.Context, f localFlags, name string) (*desired.Snapshot, fluxconfig.Kustomization, error) {
	repo, err := a.repoWithPath(f.configPath)
	if err != nil {
		return nil, fluxconfig.Kustomization{}, err
	}
	snap, err := desired.OpenDir(ctx, f.path, repo)
	if err != nil {
		return nil, fluxconfig.Kustomization{}, err
	}
	ref := fluxconfig.Ref{Namespace: a.Namespace, Name: name}
	ks, _ := snap.Select([]string{ref.String()})
	if len(ks) == 0 {
		snap.Close()
		return nil, fluxconfig.Kustomization{}, fmt.Errorf("Kustomization %s not found in %s of %s", ref, repo.ConfigPath, f.path)
	}
	return snap, ks[0], nil
}

// repoWithPath is the installation's repository, with its config path from
// configPath when set.
func (a *App) repoWithPath(configPath string) (configrepo.Repository, error) {
	if configPath == "" {
		return a.Repo()
	}
	env := envconfig.New(func(k string) (string, bool) {
		if k == configrepo.EnvConfigPath {
			return configPath, true
		}
		return a.getenv(k)
	}, secrets.New(nil))
	r := configrepo.Load(env)
	if err := env.Err(); err != nil {
		return configrepo.Repository{}, fmt.Errorf("which installation? %w (or use --stack)", err)
	}
	return r, nil
}

// clusterVars reads postBuild.substituteFrom from the cluster, connecting
// only when a Kustomization has some.
type clusterVars struct{ app *App }

func (v clusterVars) SubstituteData(ctx context.Context, kind, namespace, name string) (map[string]string, bool, error) {
	c, err := v.app.Cluster(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("reading %s %s/%s: %w (--dry-run leaves postBuild.substituteFrom out)", kind, namespace, name, err)
	}
	return c.SubstituteData(ctx, kind, namespace, name)
}

// writeYAML prints objs as a YAML stream, as `flux build` does.
func writeYAML(app *App, objs []*unstructured.Unstructured) error {
	for i, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("encoding %s as YAML: %w", o.GetName(), err)
		}
		if i > 0 {
			fmt.Fprintln(app.Out, "---")
		}
		if _, err := app.Out.Write(b); err != nil {
			return err
		}
	}
	return nil
}
