package imageupdate

import (
	"context"
	"log/slog"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// Environment variables the image-update function reads, besides the Git
// credentials (gitrepo.LoadCredentials) and the standard AWS ones.
const (
	EnvGitURL     = "SLUICE_GIT_URL"
	EnvGitBranch  = "SLUICE_GIT_BRANCH"
	EnvConfigPath = "SLUICE_CONFIG_PATH"
)

// DefaultBranch is the config branch when SLUICE_GIT_BRANCH is unset.
const DefaultBranch = "main"

// Repository is the config repository, its branch, and the folder that holds
// the Flux objects.
type Repository struct {
	URL        string
	Branch     string
	ConfigPath string
}

// Config is the image-update function's configuration.
type Config struct {
	Repo Repository
	Git  gitrepo.Credentials
}

// LoadConfig reads the configuration from env, reporting every missing or
// invalid variable in one error.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	c := Config{Repo: Repository{
		URL:        env.Required(EnvGitURL),
		Branch:     env.Optional(EnvGitBranch, DefaultBranch),
		ConfigPath: env.Required(EnvConfigPath),
	}}
	if c.Repo.URL != "" {
		if _, err := repoid.Parse(c.Repo.URL); err != nil {
			env.Fail("%s: %v", EnvGitURL, err)
		}
	}
	c.Git = gitrepo.LoadCredentials(ctx, env)
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LogValue keeps the credentials out of logs when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("gitURL", c.Repo.URL),
		slog.String("branch", c.Repo.Branch),
		slog.String("configPath", c.Repo.ConfigPath),
		slog.String("gitAuth", c.Git.String()),
	)
}
