// Command image-update is the image-update function: an ECR push or delete
// (from EventBridge, directly or through the SQS FIFO image queue), or the
// drift function's re-evaluate request, makes it commit the tags the
// ImagePolicies select now to the config branch. Outside Lambda it runs once
// on an event file (see lambdarun).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/imageupdate"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

const failedStart = "starting the image-update function"

func main() {
	lambdarun.SetupLogging()
	ctx := context.Background()
	sm := secrets.New(nil)
	cfg, err := imageupdate.LoadConfig(ctx, envconfig.New(os.LookupEnv, sm))
	lambdarun.ExitOnError(err, failedStart)
	awsCfg, err := config.LoadDefaultConfig(ctx) // honours AWS_ENDPOINT_URL_ECR
	lambdarun.ExitOnError(err, failedStart)
	repo, err := gitrepo.New(cfg.Repo.URL, cfg.Git)
	lambdarun.ExitOnError(err, failedStart)
	u := imageupdate.New(cfg.Repo, repo, images.NewResolver(images.ECRClients(awsCfg)))
	u.Secrets = sm // signing keys (sluice/<ns>/<name>)
	// No cluster access here: the notification ledger is this instance's.
	// A pushed commit notifies once anyway (a redelivery finds it in Git).
	events := alerting.New()
	events.Secrets, events.SNS, events.Metrics = sm, sns.NewFromConfig(awsCfg), os.Stderr
	u.Events = events
	slog.InfoContext(ctx, "image-update ready", "config", cfg)
	lambdarun.Start(imageupdate.NewHandler(u).Handle)
}
