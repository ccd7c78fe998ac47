package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

func newCheckCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check every prerequisite of this installation, as `flux check` does; exit 1 when one fails",
		Long: `Check every prerequisite of this installation, as flux check does: the
cluster is reachable with this identity, which holds the RBAC Sluice needs
(infra/rbac.yaml), the config repository is reachable and its Flux objects
parse (warnings listed), the queues exist, and the webhook secret is set.
Exit 1 when any check fails.`,
		Example: "  sluice check --stack sluice-prod",
		Args:    usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.check(cmd.Context())
		},
	}
}

// checker prints checks as `flux check` does and remembers a failure.
type checker struct {
	a      *App
	failed bool
}

func (c *checker) section(what string) { fmt.Fprintf(c.a.Err, "► checking %s\n", what) }
func (c *checker) pass(format string, args ...any) {
	fmt.Fprintf(c.a.Err, "✔ "+format+"\n", args...)
}
func (c *checker) warn(format string, args ...any) {
	fmt.Fprintf(c.a.Err, "⚠ "+format+"\n", args...)
}
func (c *checker) fail(format string, args ...any) {
	c.failed = true
	fmt.Fprintf(c.a.Err, "✗ "+format+"\n", args...)
}

func (a *App) check(ctx context.Context) error {
	c := &checker{a: a}
	c.section("the cluster")
	if client := c.cluster(ctx); client != nil {
		c.section("the RBAC Sluice needs (infra/rbac.yaml)")
		c.rbac(ctx, client)
	}
	c.section("the config repository")
	c.configRepository(ctx)
	c.section("the queues")
	c.queue(ctx, "reconcile", envReconcileQueue)
	c.queue(ctx, "image", envImageQueue)
	c.section("the webhook secret")
	env := a.Env()
	env.Secret(ctx, envWebhookSecret, true)
	if err := env.Err(); err != nil {
		c.fail("%v", err)
	} else {
		c.pass("webhook secret set")
	}
	if c.failed {
		return &ExitError{Code: exitFail, Err: errors.New("check failed")}
	}
	c.pass("all checks passed")
	return nil
}

// cluster reaches the cluster and says as whom it is seen; nil when it
// cannot.
func (c *checker) cluster(ctx context.Context) kubernetes.Interface {
	if _, err := c.a.Cluster(ctx); err != nil {
		c.fail("cannot reach the cluster: %v", err)
		return nil
	}
	// One review per verb: client-go's default 5 QPS would make that slow.
	cfg := rest.CopyConfig(c.a.restConfig)
	cfg.QPS, cfg.Burst = 50, 100
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		c.fail("cannot reach the cluster: %v", err)
		return nil
	}
	version, err := client.Discovery().ServerVersion()
	if err != nil {
		c.fail("cannot reach the cluster: %v", err)
		return nil
	}
	review, err := client.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		c.fail("Kubernetes %s reached, but it does not say who this identity is: %v", version.GitVersion, err)
		return nil
	}
	c.pass("Kubernetes %s reached as %s", version.GitVersion, review.Status.UserInfo.Username)
	return client
}

// rbacRule is a rule of infra/rbac.yaml's ClusterRole.
type rbacRule struct {
	Group     string
	Resources []string
	Verbs     []string
}

// sluiceRBAC is what infra/rbac.yaml grants Sluice (a test keeps the two
// equal): the namespace and ConfigMaps of its inventories and statuses,
// and the kinds the example config repository applies.
var sluiceRBAC = []rbacRule{
	{"", []string{"namespaces"}, allVerbs},
	{"", []string{"configmaps", "services"}, allVerbs},
	{"apps", []string{"deployments"}, allVerbs},
	{"batch", []string{"cronjobs"}, allVerbs},
	{"networking.k8s.io", []string{"ingresses"}, allVerbs},
	{"cert-manager.io", []string{"issuers"}, allVerbs},
}

var allVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

// rbac asks the API server, verb by verb, whether this identity may do
// what Sluice does.
func (c *checker) rbac(ctx context.Context, client kubernetes.Interface) {
	for _, rule := range sluiceRBAC {
		for _, res := range rule.Resources {
			name := res
			if rule.Group != "" {
				name += "." + rule.Group
			}
			var denied []string
			for _, verb := range rule.Verbs {
				review, err := client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
					Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{Group: rule.Group, Resource: res, Verb: verb}},
				}, metav1.CreateOptions{})
				if err != nil {
					c.fail("%s: cannot ask whether %s is allowed: %v", name, verb, err)
					return
				}
				if !review.Status.Allowed {
					denied = append(denied, verb)
				}
			}
			if len(denied) > 0 {
				c.fail("%s: may not %s", name, strings.Join(denied, ", "))
			} else {
				c.pass("%s: %s", name, strings.Join(rule.Verbs, ", "))
			}
		}
	}
}

// configRepository asks the remote for the branch head, clones it and
// reads its Flux objects as the functions do.
func (c *checker) configRepository(ctx context.Context) {
	git, repo, err := c.a.Git(ctx)
	if err != nil {
		c.fail("%v", err)
		return
	}
	head, err := git.Head(ctx, repo.Branch)
	if err != nil {
		c.fail("%v", err)
		return
	}
	c.pass("%s branch %s at %s", git.URL(), repo.Branch, head)
	co, err := git.Clone(ctx, repo.Branch)
	if err != nil {
		c.fail("%v", err)
		return
	}
	defer co.Close()
	cfg, err := fluxconfig.Read(os.DirFS(co.Dir), repo.ConfigPath)
	if err != nil {
		c.fail("Flux objects in %s: %v", repo.ConfigPath, err)
		return
	}
	c.pass("Flux objects in %s: %s", repo.ConfigPath, counts(cfg))
	for _, n := range cfg.Notes {
		if n.Severity == fluxconfig.Warning {
			c.warn("%s %s: %s", n.Object, n.Field, n.Message)
		}
	}
	for _, k := range cfg.Kustomizations {
		for _, r := range k.Refusals {
			c.fail("Kustomization %s: %s", k.Ref, r)
		}
	}
	for _, g := range cfg.GitRepositories {
		for _, r := range g.Refusals {
			c.fail("GitRepository %s: %s", g.Ref, r)
		}
	}
	for _, err := range cfg.ImageErrors {
		c.fail("%v", err)
	}
}

// counts says how many objects of each kind cfg holds.
func counts(cfg *fluxconfig.Config) string {
	var parts []string
	for _, k := range []struct {
		kind string
		n    int
	}{
		{"GitRepository", len(cfg.GitRepositories)},
		{"Kustomization", len(cfg.Kustomizations)},
		{"ImageRepository", len(cfg.ImageRepositories)},
		{"ImagePolicy", len(cfg.ImagePolicies)},
		{"ImageUpdateAutomation", len(cfg.ImageUpdateAutomations)},
	} {
		if k.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k.n, k.kind))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// queue checks that the FIFO queue the variable names exists.
func (c *checker) queue(ctx context.Context, what, variable string) {
	url, _ := c.a.getenv(variable)
	if url == "" {
		c.fail("no %s queue: %s is not set (or use --stack)", what, variable)
		return
	}
	cfg, err := c.a.AWS(ctx)
	if err != nil {
		c.fail("%v", err)
		return
	}
	out, err := sqs.NewFromConfig(cfg).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn, sqstypes.QueueAttributeNameFifoQueue},
	})
	if err != nil {
		c.fail("%s queue %s: %v", what, url, err)
		return
	}
	if out.Attributes["FifoQueue"] != "true" {
		c.fail("%s queue %s is not a FIFO queue", what, out.Attributes["QueueArn"])
		return
	}
	c.pass("%s queue %s", what, out.Attributes["QueueArn"])
}
