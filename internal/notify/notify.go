// Package notify publishes Sluice's notifications to an SNS topic.
package notify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// SNSAPI is the part of the SNS client used here.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Topic publishes to one SNS topic.
type Topic struct {
	client SNSAPI
	arn    string
}

// NewTopic returns the topic arn reached through client.
func NewTopic(client SNSAPI, arn string) *Topic { return &Topic{client: client, arn: arn} }

// maxSubject is SNS's limit on an e-mail subject.
const maxSubject = 100

// Publish sends subject and message.
func (t *Topic) Publish(ctx context.Context, subject, message string) error {
	if len(subject) > maxSubject {
		subject = subject[:maxSubject]
	}
	_, err := t.client.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(t.arn), Subject: aws.String(subject), Message: aws.String(message)})
	if err != nil {
		return fmt.Errorf("publishing to %s: %w", t.arn, err)
	}
	return nil
}
