package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

func TestCheck(t *testing.T) {
	_, vars, _, head := fixtureRepo(t, "cli-check")
	sqs := awstest.NewSQSServer(awstest.SQSQueue{Name: "reconcile.fifo"}, awstest.SQSQueue{Name: "image.fifo", ContentBasedDeduplication: true}, awstest.SQSQueue{Name: "standard"})
	t.Cleanup(sqs.Close)
	awsEnv(t, map[string]string{"SQS": sqs.URL()})
	vars[envReconcileQueue] = sqs.QueueURL("reconcile.fifo")
	vars[envImageQueue] = sqs.QueueURL("image.fifo")
	vars[envWebhookSecret] = "s3cret"

	_, stderr, code := run(t, vars, "check")
	rbac := ""
	for _, r := range []string{"namespaces", "configmaps", "services", "deployments.apps", "cronjobs.batch", "ingresses.networking.k8s.io", "issuers.cert-manager.io"} {
		rbac += "✔ " + r + ": get, list, watch, create, update, patch, delete\n"
	}
	wantOutput(t, "check", `► checking the cluster
✔ Kubernetes v1.37.2 reached as sluice-admin
► checking the RBAC Sluice needs (infra/rbac.yaml)
`+rbac+`► checking the config repository
✔ `+vars["SLUICE_GIT_URL"]+` branch main at `+head+`
✔ Flux objects in clusters/prod: 1 GitRepository, 1 Kustomization, 1 ImageRepository, 1 ImagePolicy, 1 ImageUpdateAutomation
► checking the queues
✔ reconcile queue arn:aws:sqs:us-east-1:111122223333:reconcile.fifo
✔ image queue arn:aws:sqs:us-east-1:111122223333:image.fifo
► checking the webhook secret
✔ webhook secret set
✔ all checks passed
`, stderr)
	if code != exitOK {
		t.Errorf("exit %d, want %d", code, exitOK)
	}

	// Another identity, a missing queue, a queue that is not FIFO, no secret.
	vars["KUBECONFIG"] = impersonating(t, "nobody")
	vars[envReconcileQueue] = sqs.QueueURL("standard")
	vars[envImageQueue] = sqs.QueueURL("missing.fifo")
	delete(vars, envWebhookSecret)
	_, stderr, code = run(t, vars, "check")
	for _, want := range []string{
		"✔ Kubernetes v1.37.2 reached as nobody\n",
		"✗ namespaces: may not get, list, watch, create, update, patch, delete\n",
		"✗ reconcile queue arn:aws:sqs:us-east-1:111122223333:standard is not a FIFO queue\n",
		"✗ image queue " + sqs.QueueURL("missing.fifo") + ": ",
		"✗ configuration: SLUICE_WEBHOOK_SECRET or SLUICE_WEBHOOK_SECRET_ID is required\n",
		"\n✗ check failed\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != exitFail {
		t.Errorf("exit %d, want %d", code, exitFail)
	}
}

// impersonating is the admin kubeconfig acting as user, who holds no RBAC.
func impersonating(t *testing.T, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(adminKubeconfig(t))
	must(t, err)
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

// What check asks for is what infra/rbac.yaml grants.
func TestCheckRBACIsInfraRBAC(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(kubetest.RepoRoot(), "infra", "rbac.yaml"))
	must(t, err)
	var got []rbacRule
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var role rbacv1.ClusterRole
		must(t, yaml.Unmarshal([]byte(doc), &role))
		if role.Kind != "ClusterRole" {
			continue
		}
		for _, r := range role.Rules {
			if len(r.APIGroups) != 1 {
				t.Fatalf("rule %+v: one API group per rule, as check asks", r)
			}
			got = append(got, rbacRule{r.APIGroups[0], r.Resources, r.Verbs})
		}
	}
	wantJSON(t, sluiceRBAC, got)
}
