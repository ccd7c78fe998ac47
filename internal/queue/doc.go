// Package queue holds the contract between the functions that send to Sluice's
// SQS FIFO queues and those that consume them: message bodies, message group
// ids, deduplication ids, and the sender.
package queue
