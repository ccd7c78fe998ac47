package reconcile

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/github"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
)

// Config is the reconcile function's configuration.
type Config struct {
	Repo configrepo.Repository
	Git  gitrepo.Credentials
	// ClusterName is the EKS cluster; empty means KUBECONFIG.
	ClusterName string
	// GitHubAPIURL and GitHubToken set commit statuses; no token, no statuses.
	GitHubAPIURL string
	GitHubToken  string
	// StatusesOff says why no commit statuses are sent, when none are.
	StatusesOff string
	// ReconcileQueueURL, when set, lets a failed message be retried early.
	ReconcileQueueURL string
	// AllowEmptyConfig lets a config folder that defines no Kustomization
	// remove every object of the installation (SLUICE_ALLOW_EMPTY_CONFIG).
	AllowEmptyConfig bool
}

// LoadConfig reads the configuration from env, reporting every problem at once.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	c := Config{
		Repo:              configrepo.Load(env),
		ClusterName:       env.Optional("SLUICE_CLUSTER_NAME", ""),
		GitHubAPIURL:      env.URL("SLUICE_GITHUB_API_URL", false),
		ReconcileQueueURL: env.URL("SLUICE_RECONCILE_QUEUE_URL", false),
		AllowEmptyConfig:  env.OneOf("SLUICE_ALLOW_EMPTY_CONFIG", "false", "true", "false") == "true",
	}
	c.Git = gitrepo.LoadCredentials(ctx, env)
	c.GitHubToken, c.StatusesOff = statusToken(c.Repo.URL, c.GitHubAPIURL, env.Secret(ctx, "SLUICE_GITHUB_TOKEN", false), c.Git.Password)
	return c, env.Err()
}

// NewStatuses returns what sets commit statuses for c: nil, none, when c has
// no token for them (StatusesOff says why).
func NewStatuses(c Config) (Statuses, error) {
	if c.GitHubToken == "" {
		return nil, nil
	}
	s, err := github.NewStatusSetter(c.GitHubAPIURL, c.GitHubToken)
	if err != nil {
		return nil, fmt.Errorf("commit statuses: %w", err)
	}
	return s, nil
}

// statusToken picks the token for commit statuses: SLUICE_GITHUB_TOKEN, else
// the Git token, but only when the Git remote is the GitHub the statuses go
// to. A GitLab or CodeCommit token sent to api.github.com would hand a
// credential to a host it was never meant for. When there is no token, why
// says so.
func statusToken(gitURL, apiURL, githubToken, gitToken string) (token, why string) {
	switch {
	case githubToken != "":
		return githubToken, ""
	case gitToken == "":
		return "", "commit statuses are off: no token (set SLUICE_GITHUB_TOKEN, or use an HTTPS Git token for the GitHub repository)"
	}
	api := apiURL
	if api == "" {
		api = github.DefaultAPIURL
	}
	gitHost, apiHost := hostOf(gitURL), hostOf(api)
	if gitHost != "" && github.ServesGit(apiHost, gitHost) {
		return gitToken, ""
	}
	return "", fmt.Sprintf("commit statuses are off: the Git token is for %s, and the GitHub API is %s; "+
		"it is not sent to another host (set SLUICE_GITHUB_TOKEN to send statuses)", gitHost, apiHost)
}

// hostOf is the host name of an absolute URL ("" for scp-like or broken ones,
// whose token, if any, is not an HTTPS token).
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
