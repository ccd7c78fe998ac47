package drift

import (
	"context"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
)

// Config is the drift function's configuration.
type Config struct {
	Repo configrepo.Repository
	Git  gitrepo.Credentials
	// ClusterName is the EKS cluster; empty means KUBECONFIG.
	ClusterName string
	Mode        Mode
	// ReconcileQueueURL is where corrections are queued (required to correct).
	ReconcileQueueURL string
	ImageQueueURL     string
	SNSTopicARN       string
}

// LoadConfig reads the configuration from env, reporting every problem at once.
func LoadConfig(ctx context.Context, env *envconfig.Env) (Config, error) {
	c := Config{
		Repo:              configrepo.Load(env),
		ClusterName:       env.Optional("SLUICE_CLUSTER_NAME", ""),
		Mode:              Mode(env.OneOf("SLUICE_DRIFT_MODE", string(Correct), string(Correct), string(Detect))),
		ReconcileQueueURL: env.URL("SLUICE_RECONCILE_QUEUE_URL", false),
		ImageQueueURL:     env.URL("SLUICE_IMAGE_QUEUE_URL", false),
		SNSTopicARN:       env.Optional("SLUICE_SNS_TOPIC_ARN", ""),
	}
	c.Git = gitrepo.LoadCredentials(ctx, env)
	if c.Mode == Correct && c.ReconcileQueueURL == "" {
		env.Fail("SLUICE_RECONCILE_QUEUE_URL is required when SLUICE_DRIFT_MODE is correct")
	}
	return c, env.Err()
}
