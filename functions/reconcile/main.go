// Command reconcile is the reconcile function: an SQS message wakes it, and it
// converges the cluster to the config branch's head.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/alertledger"
	"github.com/sluice-gitops/sluice/internal/decrypt"
	"github.com/sluice-gitops/sluice/internal/eksauth"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

func main() {
	lambdarun.SetupLogging()
	ctx := context.Background()
	sm := secrets.New(nil)
	cfg, err := reconcile.LoadConfig(ctx, envconfig.New(os.LookupEnv, sm))
	lambdarun.ExitOnError(err, "starting the reconcile function")
	if cfg.StatusesOff != "" {
		slog.InfoContext(ctx, cfg.StatusesOff, "repo", cfg.Repo)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	lambdarun.ExitOnError(err, "starting the reconcile function")
	restCfg, err := eksauth.ClusterConfig(ctx, cfg.ClusterName, eksauth.WithAWSConfig(awsCfg))
	lambdarun.ExitOnError(err, "starting the reconcile function")
	cluster, err := kube.New(restCfg)
	lambdarun.ExitOnError(err, "starting the reconcile function")
	repo, err := gitrepo.New(cfg.Repo.URL, cfg.Git)
	lambdarun.ExitOnError(err, "starting the reconcile function")
	statuses, err := reconcile.NewStatuses(cfg)
	lambdarun.ExitOnError(err, "starting the reconcile function")
	rec := reconcile.New(cfg.Repo, repo, cluster, statuses)
	rec.AllowEmpty = cfg.AllowEmptyConfig
	clientset, err := kubernetes.NewForConfig(restCfg)
	lambdarun.ExitOnError(err, "starting the reconcile function")
	events := alerting.New()
	events.Secrets, events.SNS, events.Metrics = sm, sns.NewFromConfig(awsCfg), os.Stderr
	events.Ledger = alertledger.New(clientset, cfg.Repo.Installation())
	rec.Events = events
	rec.Keys = decrypt.New(sm, awsCfg.Credentials)
	h := reconcile.NewHandler(rec)
	if cfg.ReconcileQueueURL != "" {
		h.Retry = queue.NewSender(sqs.NewFromConfig(awsCfg), cfg.ReconcileQueueURL)
	}
	lambdarun.Start(h.Handle)
}
