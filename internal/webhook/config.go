package webhook

import (
	"context"
	"log/slog"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// Environment variables the webhook function reads.
const (
	EnvGitURL        = "SLUICE_GIT_URL"
	EnvGitBranch     = "SLUICE_GIT_BRANCH"
	EnvWebhookSecret = "SLUICE_WEBHOOK_SECRET" // or SLUICE_WEBHOOK_SECRET_ID
	EnvQueueURL      = "SLUICE_RECONCILE_QUEUE_URL"
)

// DefaultBranch is the config branch when SLUICE_GIT_BRANCH is unset.
const DefaultBranch = "main"

// Config is the webhook function's configuration.
type Config struct {
	// GitURL is the config repository; pushes to it are accepted.
	GitURL string
	// Branch is the config branch; pushes to other branches are ignored.
	Branch string
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
		GitURL:   env.Required(EnvGitURL),
		Branch:   env.Optional(EnvGitBranch, DefaultBranch),
		Secret:   env.Secret(ctx, EnvWebhookSecret, true),
		QueueURL: env.URL(EnvQueueURL, true),
	}
	if c.GitURL != "" {
		if _, err := repoid.Parse(c.GitURL); err != nil {
			env.Fail("%s: %v", EnvGitURL, err)
		}
	}
	if err := env.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LogValue keeps the secret out of logs when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("gitURL", c.GitURL),
		slog.String("branch", c.Branch),
		slog.String("queueURL", c.QueueURL),
	)
}
