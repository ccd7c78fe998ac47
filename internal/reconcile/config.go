package reconcile

import (
	"context"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// Config is the reconcile function's configuration.
type Config struct {
	Repo desired.Repository
	Git  gitrepo.Credentials
	// ClusterName is the EKS cluster; empty means KUBECONFIG.
	ClusterName string
	// GitHubAPIURL and GitHubToken set commit statuses; no token, no statuses.
	GitHubAPIURL string
	GitHubToken  string
	// ReconcileQueueURL, when set, lets a failed message be retried early.
	ReconcileQueueURL string
	// AllowEmptyConfig lets a config folder that defines no Kustomization
	// remove every object of the installation (SLUICE_ALLOW_EMPTY_CONFIG).
	AllowEmptyConfig bool
}

// LoadConfig reads the configuration from env, reporting every problem at once.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	c := Config{
		Repo: desired.Repository{
			URL:        env.Required("SLUICE_GIT_URL"),
			Branch:     env.Optional("SLUICE_GIT_BRANCH", "main"),
			ConfigPath: env.Required("SLUICE_CONFIG_PATH"),
		},
		ClusterName:       env.Optional("SLUICE_CLUSTER_NAME", ""),
		GitHubAPIURL:      env.URL("SLUICE_GITHUB_API_URL", false),
		ReconcileQueueURL: env.URL("SLUICE_RECONCILE_QUEUE_URL", false),
		AllowEmptyConfig:  env.OneOf("SLUICE_ALLOW_EMPTY_CONFIG", "false", "true", "false") == "true",
	}
	if c.Repo.URL != "" {
		if _, err := repoid.Parse(c.Repo.URL); err != nil {
			env.Fail("SLUICE_GIT_URL: %v", err)
		}
	}
	c.Git = gitrepo.LoadCredentials(ctx, env)
	c.GitHubToken = env.Secret(ctx, "SLUICE_GITHUB_TOKEN", false)
	if c.GitHubToken == "" {
		c.GitHubToken = c.Git.Password
	}
	return c, env.Err()
}
