// Command drift is the drift function: on a schedule it compares Git with the
// cluster, reports, and queues a reconcile to correct what drifted.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/alerting"
	"github.com/sluice-gitops/sluice/internal/alertledger"
	"github.com/sluice-gitops/sluice/internal/decrypt"
	"github.com/sluice-gitops/sluice/internal/drift"
	"github.com/sluice-gitops/sluice/internal/eksauth"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/images/behind"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/lambdarun"
	"github.com/sluice-gitops/sluice/internal/notify"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

const failedStart = "starting the drift function"

func main() {
	lambdarun.SetupLogging()
	ctx := context.Background()
	sm := secrets.New(nil)
	cfg, err := drift.LoadConfig(ctx, envconfig.New(os.LookupEnv, sm))
	lambdarun.ExitOnError(err, failedStart)
	awsCfg, err := config.LoadDefaultConfig(ctx)
	lambdarun.ExitOnError(err, failedStart)
	restCfg, err := eksauth.ClusterConfig(ctx, cfg.ClusterName, eksauth.WithAWSConfig(awsCfg))
	lambdarun.ExitOnError(err, failedStart)
	cluster, err := kube.New(restCfg)
	lambdarun.ExitOnError(err, failedStart)
	repo, err := gitrepo.New(cfg.Repo.URL, cfg.Git)
	lambdarun.ExitOnError(err, failedStart)

	sqsClient := sqs.NewFromConfig(awsCfg)
	var reconcileQueue drift.Queue
	if cfg.ReconcileQueueURL != "" {
		reconcileQueue = queue.NewSender(sqsClient, cfg.ReconcileQueueURL)
	}
	checker := drift.New(cfg.Repo, repo, cluster, cfg.Mode, reconcileQueue)
	checker.Keys = decrypt.New(sm, awsCfg.Credentials)
	h := drift.NewHandler(checker, os.Stderr)
	h.Images = behind.New(images.NewResolver(images.ECRClients(awsCfg)))
	if cfg.ImageQueueURL != "" {
		h.ImageQueue = queue.NewSender(sqsClient, cfg.ImageQueueURL)
	}
	clientset, err := kubernetes.NewForConfig(restCfg)
	lambdarun.ExitOnError(err, failedStart)
	events := alerting.New()
	events.Secrets, events.SNS, events.Metrics = sm, sns.NewFromConfig(awsCfg), os.Stderr
	events.Ledger = alertledger.New(clientset, cfg.Repo.Installation())
	h.Events = events
	if cfg.SNSTopicARN != "" {
		h.Notifier = notify.NewTopic(sns.NewFromConfig(awsCfg), cfg.SNSTopicARN)
	}
	lambdarun.Start(h.Handle)
}
