package notify

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sluice-gitops/sluice/internal/awstest"
)

const topic = "arn:aws:sns:us-east-1:111122223333:sluice-drift"

func client(srv *awstest.SNSServer) *sns.Client {
	return sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
}

func TestPublish(t *testing.T) {
	srv := awstest.NewSNSServer(topic)
	defer srv.Close()
	long := strings.Repeat("s", 150)
	if err := NewTopic(client(srv), topic).Publish(context.Background(), long, "2 drifted"); err != nil {
		t.Fatal(err)
	}
	got := srv.Published()
	if len(got) != 1 || got[0].Message != "2 drifted" || len(got[0].Subject) != maxSubject {
		t.Fatalf("published = %+v", got)
	}
	err := NewTopic(client(srv), topic+"-gone").Publish(context.Background(), "s", "m")
	if err == nil || !strings.Contains(err.Error(), "sluice-drift-gone") {
		t.Fatalf("unknown topic: %v", err)
	}
}
