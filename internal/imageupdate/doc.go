// Package imageupdate is the image-update function: an ECR push or delete
// (from EventBridge, directly or through the SQS FIFO image queue), or the
// drift function's request to re-evaluate policies, makes it select each
// affected ImagePolicy's tag from the registry as it is now, rewrite the
// setter markers under each ImageUpdateAutomation's update path, and commit
// and push the change to the config branch.
package imageupdate
