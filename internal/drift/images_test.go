package drift

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/images/behind"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/registry"
)

// TestMissedImagePushIsQueued: the registry holds a tag the policy allows
// that Git does not (its ECR event was lost); the drift run queues a
// re-evaluation on the image queue.
func TestMissedImagePushIsQueued(t *testing.T) {
	f := newFixture(t, "drift-images")
	reg := awstest.NewECRServer()
	defer reg.Close()
	reg.CreateRepository("111122223333", "mamezou-tech/task-service")
	for _, tag := range []string{"1.0.0", "1.1.0", "1.1.1", "1.2.0"} {
		reg.PushTag("111122223333", "mamezou-tech/task-service", tag)
	}
	creds := credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	clients := func(region string) registry.API {
		return ecr.New(ecr.Options{Region: region, BaseEndpoint: aws.String(reg.URL()), Credentials: creds})
	}
	imageQueue := awstest.NewSQSServer(awstest.SQSQueue{Name: "image.fifo", ContentBasedDeduplication: true})
	defer imageQueue.Close()
	sqsClient := sqs.New(sqs.Options{Region: awstest.SQSRegion, BaseEndpoint: aws.String(imageQueue.URL()), Credentials: creds})

	h := NewHandler(New(f.repo, f.git, f.cluster, Correct, f.sender), nil)
	h.Images = behind.New(images.NewResolver(clients))
	h.ImageQueue = queue.NewSender(sqsClient, imageQueue.QueueURL("image.fifo"))
	rep, err := h.Handle(context.Background(), json.RawMessage(strings.Replace(scheduled, "RUN", "images-1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(rep.Images, []string{"flux-system/task-service"}) || !rep.ImagesQueued {
		t.Fatalf("images = %v queued %v", rep.Images, rep.ImagesQueued)
	}
	msgs := imageQueue.Messages("image.fifo")
	if len(msgs) != 1 {
		t.Fatalf("%d re-evaluate messages, want 1", len(msgs))
	}
	m, err := queue.DecodeReevaluate([]byte(msgs[0].Body))
	if err != nil || m.Reason != queue.ReasonDrift || !cmp.Equal(m.Policies, []string{"flux-system/task-service"}) {
		t.Errorf("message = %+v, %v", m, err)
	}
}
