// Package templatetest checks template.yaml, the AWS SAM template that deploys
// Sluice, against the code it deploys: functions, triggers, queues, IAM,
// environment and the sample events. It holds tests only.
package templatetest
