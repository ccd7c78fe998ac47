// Command webhook is the webhook function: it answers GitHub deliveries on a
// Lambda Function URL and queues a reconcile for each push to the config
// branch. Outside Lambda it runs once on an event file (see lambdarun).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/secrets"
	"github.com/sluice-gitops/sluice/internal/webhook"
)

func main() {
	lambdarun.SetupLogging()
	ctx := context.Background()
	cfg, err := webhook.LoadConfig(ctx, envconfig.New(os.LookupEnv, secrets.New(nil)))
	lambdarun.ExitOnError(err, "webhook: loading configuration")
	awsCfg, err := config.LoadDefaultConfig(ctx) // honours AWS_ENDPOINT_URL_SQS
	lambdarun.ExitOnError(err, "webhook: loading AWS configuration")
	h, err := webhook.New(cfg, queue.NewSender(sqs.NewFromConfig(awsCfg), cfg.QueueURL))
	lambdarun.ExitOnError(err, "webhook: building the handler")
	slog.InfoContext(ctx, "webhook ready", "config", cfg)
	lambdarun.Start(h.Handle)
}
