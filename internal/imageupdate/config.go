package imageupdate

import (
	"context"
	"log/slog"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
)

// Repository is the config repository, its branch, and the folder that holds
// the Flux objects.
type Repository = configrepo.Repository

// Config is the image-update function's configuration.
type Config struct {
	Repo Repository
	Git  gitrepo.Credentials
}

// LoadConfig reads the configuration from env, reporting every missing or
// invalid variable in one error.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	c := Config{Repo: configrepo.Load(env)}
	c.Git = gitrepo.LoadCredentials(ctx, env)
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LogValue keeps the credentials out of logs when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("repo", c.Repo),
		slog.String("gitAuth", c.Git.String()),
	)
}
