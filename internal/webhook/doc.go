// Package webhook is the webhook function's use case: it turns a signed
// GitHub delivery, received through a Lambda Function URL, into at most one
// reconcile message on the SQS FIFO queue.
package webhook
