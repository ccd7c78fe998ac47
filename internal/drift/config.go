package drift

import (
	"context"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

// Config is the drift function's configuration.
type Config struct {
	reconcile.Config
	Mode          Mode
	ImageQueueURL string
	SNSTopicARN   string
}

// LoadConfig reads the configuration from env, reporting every problem at once.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	base, _ := reconcile.LoadConfig(ctx, env)
	c := Config{
		Config:        base,
		Mode:          Mode(env.OneOf("SLUICE_DRIFT_MODE", string(Correct), string(Correct), string(Detect))),
		ImageQueueURL: env.URL("SLUICE_IMAGE_QUEUE_URL", false),
		SNSTopicARN:   env.Optional("SLUICE_SNS_TOPIC_ARN", ""),
	}
	if c.Mode == Correct && c.ReconcileQueueURL == "" {
		env.Fail("SLUICE_RECONCILE_QUEUE_URL is required when SLUICE_DRIFT_MODE is correct")
	}
	return c, env.Err()
}
