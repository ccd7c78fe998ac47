package cli

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/sluice-gitops/sluice/internal/awstest"
)

// --stack reads the installation from the deployed stack through the real
// CloudFormation client: the repository, branch and path, the cluster, the
// queues, and the Secrets Manager ids of the Git token and webhook secret.
func TestStack(t *testing.T) {
	_, vars, _, head := fixtureRepo(t, "cli-stack")
	sqs := awstest.NewSQSServer(awstest.SQSQueue{Name: "sluice-reconcile.fifo"}, awstest.SQSQueue{Name: "sluice-image.fifo", ContentBasedDeduplication: true})
	t.Cleanup(sqs.Close)
	secrets := awstest.NewSecretsManagerServer(map[string]string{"sluice-prod/git-credential": "t0ken", "sluice-prod/webhook-secret": "whsec"})
	t.Cleanup(secrets.Close)
	eks := awstest.NewEKSServer()
	t.Cleanup(eks.Close)
	cfn := awstest.NewCloudFormationServer(awstest.CloudFormationStack{
		Name: "sluice-prod",
		Parameters: map[string]string{
			"ClusterName": "prod-cluster", "GitUrl": vars["SLUICE_GIT_URL"], "GitBranch": "main", "ConfigPath": "clusters/prod",
			"GitAuth": "token", "GitKnownHosts": "", "AccessMode": "rbac",
		},
		Outputs: map[string]string{
			"ReconcileQueueUrl":      sqs.QueueURL("sluice-reconcile.fifo"),
			"ImageQueueUrl":          sqs.QueueURL("sluice-image.fifo"),
			"WebhookSecretArn":       "sluice-prod/webhook-secret",
			"GitCredentialSecretArn": "sluice-prod/git-credential",
			"WebhookUrl":             "https://example.lambda-url.us-east-1.on.aws/",
		},
	})
	t.Cleanup(cfn.Close)
	awsEnv(t, map[string]string{"SQS": sqs.URL(), "SECRETS_MANAGER": secrets.URL(), "EKS": eks.URL(), "CLOUDFORMATION": cfn.URL()})
	// Nothing of the installation from the environment: the stack has it all,
	// and comes before what the environment says.
	user := map[string]string{"SLUICE_GIT_BRANCH": "not-this-one", "SLUICE_GIT_URL": "https://example.com/not/this"}

	_, stderr, code := run(t, user, "--stack", "sluice-prod", "check")
	for _, want := range []string{
		"✗ cannot reach the cluster: ", // the stack's cluster, through EKS
		"prod-cluster",
		"✔ " + vars["SLUICE_GIT_URL"] + " branch main at " + head + "\n",
		"✔ Flux objects in clusters/prod: ",
		"✔ reconcile queue arn:aws:sqs:us-east-1:111122223333:sluice-reconcile.fifo\n",
		"✔ image queue arn:aws:sqs:us-east-1:111122223333:sluice-image.fifo\n",
		"✔ webhook secret set\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != exitFail {
		t.Errorf("exit %d, want %d (the cluster is not reachable)", code, exitFail)
	}

	_, stderr, code = run(t, user, "--stack", "no-such-stack", "get", "ks")
	if code != exitFail || !strings.Contains(stderr, "reading the stack no-such-stack") || !strings.Contains(stderr, "does not exist") {
		t.Errorf("unknown stack: exit %d, stderr %q", code, stderr)
	}
}

// The Git credential's secret is a token or an SSH key as GitAuth says.
func TestStackEnvGitAuth(t *testing.T) {
	stack := func(auth string) cfntypes.Stack {
		return cfntypes.Stack{
			Parameters: []cfntypes.Parameter{
				{ParameterKey: aws.String("GitAuth"), ParameterValue: aws.String(auth)},
				{ParameterKey: aws.String("GitKnownHosts"), ParameterValue: aws.String("github.com ssh-ed25519 AAAA")},
				{ParameterKey: aws.String("GitUrl"), ParameterValue: aws.String("ssh://git@github.com/o/r")},
			},
			Outputs: []cfntypes.Output{{OutputKey: aws.String("GitCredentialSecretArn"), OutputValue: aws.String("arn:cred")}},
		}
	}
	wantJSON(t, map[string]string{"SLUICE_GIT_URL": "ssh://git@github.com/o/r", envGitTokenSecretID: "arn:cred"}, stackEnv(stack("token")))
	wantJSON(t, map[string]string{"SLUICE_GIT_URL": "ssh://git@github.com/o/r", envGitSSHSecretID: "arn:cred", envGitKnownHosts: "github.com ssh-ed25519 AAAA"}, stackEnv(stack("ssh-key")))
}
