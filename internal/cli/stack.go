package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// stackParameters and stackOutputs say which of template.yaml's parameters
// and outputs set which variable, as the template sets the functions'
// environment from them: the installation's inputs are parameters, the
// resources the stack made are outputs.
var (
	stackParameters = map[string]string{
		"GitUrl":      "SLUICE_GIT_URL",
		"GitBranch":   "SLUICE_GIT_BRANCH",
		"ConfigPath":  "SLUICE_CONFIG_PATH",
		"ClusterName": envClusterName,
	}
	stackOutputs = map[string]string{
		"ReconcileQueueUrl": envReconcileQueue,
		"ImageQueueUrl":     envImageQueue,
		"WebhookSecretArn":  envWebhookSecretID,
	}
)

// loadStack reads the deployed stack --stack names (DescribeStacks) into
// the variables the functions of that stack are given.
func (a *App) loadStack(ctx context.Context) error {
	cfg, err := a.AWS(ctx)
	if err != nil {
		return err
	}
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(a.Stack)})
	if err != nil {
		return fmt.Errorf("reading the stack %s: %w", a.Stack, err)
	}
	if len(out.Stacks) != 1 {
		return fmt.Errorf("reading the stack %s: CloudFormation returned %d stacks", a.Stack, len(out.Stacks))
	}
	a.stackEnv = stackEnv(out.Stacks[0])
	return nil
}

// stackEnv maps a stack's parameters and outputs to the functions'
// variables; the Git credential's secret is a token or an SSH key as the
// stack's GitAuth says.
func stackEnv(s cfntypes.Stack) map[string]string {
	params := map[string]string{}
	for _, p := range s.Parameters {
		params[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	env := map[string]string{}
	for key, name := range stackParameters {
		if v := params[key]; v != "" {
			env[name] = v
		}
	}
	for _, o := range s.Outputs {
		key, v := aws.ToString(o.OutputKey), aws.ToString(o.OutputValue)
		if name, ok := stackOutputs[key]; ok && v != "" {
			env[name] = v
		}
		if key == "GitCredentialSecretArn" && v != "" {
			if params["GitAuth"] == "ssh-key" {
				env[envGitSSHSecretID] = v
				env[envGitKnownHosts] = params["GitKnownHosts"]
			} else {
				env[envGitTokenSecretID] = v
			}
		}
	}
	return env
}
