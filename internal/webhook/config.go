package webhook

import (
	"context"
	"log/slog"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/envconfig"
)

// Environment variables the webhook function reads, besides the config
// repository's (configrepo.LoadRemote).
const (
	EnvWebhookSecret = "SLUICE_WEBHOOK_SECRET" // or SLUICE_WEBHOOK_SECRET_ID
	EnvQueueURL      = "SLUICE_RECONCILE_QUEUE_URL"
)

// Config is the webhook function's configuration.
type Config struct {
	// Repo is the config repository and branch: pushes to that branch of
	// that repository are accepted, others ignored.
	Repo configrepo.Repository
	// Secret is the GitHub webhook secret.
	Secret string
	// QueueURL is the reconcile SQS FIFO queue.
	QueueURL string
}

// LoadConfig reads the configuration from env, reporting every missing or
// invalid variable in one error. The secret comes from SLUICE_WEBHOOK_SECRET,
// or from Secrets Manager when SLUICE_WEBHOOK_SECRET_ID names it.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	c := Config{
		Repo:     configrepo.LoadRemote(env),
		Secret:   env.Secret(ctx, EnvWebhookSecret, true),
		QueueURL: env.URL(EnvQueueURL, true),
	}
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LogValue keeps the secret out of logs when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("repo", c.Repo),
		slog.String("queueURL", c.QueueURL),
	)
}
