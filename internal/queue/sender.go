package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the sender uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Sender sends messages to one SQS FIFO queue.
type Sender struct {
	client   SQSAPI
	queueURL string
}

// NewSender returns a sender to the queue at queueURL.
func NewSender(client SQSAPI, queueURL string) *Sender {
	return &Sender{client: client, queueURL: queueURL}
}

// Send marshals body to JSON and sends it with the group id and, unless empty
// (content-based deduplication), the deduplication id. It returns the SQS
// message id.
func (s *Sender) Send(ctx context.Context, body any, groupID, dedupID string) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("encoding message: %w", err)
	}
	in := &sqs.SendMessageInput{
		QueueUrl:       aws.String(s.queueURL),
		MessageBody:    aws.String(string(b)),
		MessageGroupId: aws.String(groupID),
	}
	if dedupID != "" {
		in.MessageDeduplicationId = aws.String(dedupID)
	}
	out, err := s.client.SendMessage(ctx, in)
	if err != nil {
		return "", fmt.Errorf("sending message to %s: %w", s.queueURL, err)
	}
	return aws.ToString(out.MessageId), nil
}

// RetryIn makes the received message whose receipt handle is given visible
// again after d, so its consumer retries it then instead of when the queue's
// visibility timeout (sized for the longest run) ends. On a FIFO queue this
// also frees its message group for a newer message sooner.
func (s *Sender) RetryIn(ctx context.Context, receiptHandle string, d time.Duration) error {
	_, err := s.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(s.queueURL), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: int32(d / time.Second),
	})
	if err != nil {
		return fmt.Errorf("changing the visibility of a message on %s: %w", s.queueURL, err)
	}
	return nil
}
