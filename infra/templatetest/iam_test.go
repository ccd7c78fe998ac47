package templatetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/lambdarun"
)

// statement is one IAM policy statement, Action and Resource as lists.
type statement struct {
	Effect    string
	Principal any            `json:",omitempty"`
	Action    []string       `json:",omitempty"`
	Resource  []string       `json:",omitempty"`
	Condition map[string]any `json:",omitempty"`
}

// stringList accepts IAM's "a" or ["a", "b"].
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

// policyStatements decodes a resolved policy document strictly: an element
// IAM does not have, or a NotAction/NotResource (which grant by exclusion),
// fails the test.
func policyStatements(t *testing.T, doc any) []statement {
	t.Helper()
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var pd struct {
		Version   string
		Statement []struct {
			Sid       string
			Effect    string
			Principal any
			Action    stringList
			Resource  stringList
			Condition map[string]any
		}
	}
	if err := lambdarun.DecodeEvent(js, &pd); err != nil {
		t.Fatalf("policy document %s: %v", js, err)
	}
	if pd.Version != "2012-10-17" {
		t.Errorf("policy document version %q, want 2012-10-17 (older ones lack policy variables)", pd.Version)
	}
	var out []statement
	for _, s := range pd.Statement {
		out = append(out, statement{Effect: s.Effect, Principal: s.Principal, Action: s.Action, Resource: s.Resource, Condition: s.Condition})
	}
	return out
}

// grant is one action allowed on one resource.
type grant struct{ Action, Resource string }

// functionGrants returns what a function's role allows, checking on the way
// that the role is the template's own, assumable by Lambda only, with no
// managed policy but VPC access when the function runs in a VPC.
func functionGrants(t *testing.T, d *deployment, fnID string) []grant {
	t.Helper()
	fn := d.tpl.GetAllServerlessFunctionResources()[fnID]
	if fn.Policies != nil {
		t.Errorf("%s: SAM Policies are ignored with a Role; put them in the role", fnID)
	}
	var roleID string
	for id := range d.tpl.GetAllIAMRoleResources() {
		if d.must(t, id, "Arn") == deref(fn.Role) {
			roleID = id
		}
	}
	if roleID == "" {
		// Without a Role, SAM makes one with its managed policies, which
		// allow sqs:ReceiveMessage on "*" for an SQS event source.
		t.Fatalf("%s runs as %v, not a role of the template", fnID, deref(fn.Role))
	}
	role := d.tpl.GetAllIAMRoleResources()[roleID]
	assume := []statement{{Effect: "Allow", Principal: map[string]any{"Service": "lambda.amazonaws.com"}, Action: []string{"sts:AssumeRole"}}}
	if diff := cmp.Diff(assume, policyStatements(t, role.AssumeRolePolicyDocument)); diff != "" {
		t.Errorf("%s trust policy (-want +got):\n%s", roleID, diff)
	}
	var managed []string
	if fn.VpcConfig != nil {
		// Elastic network interface actions take no narrower resource.
		managed = []string{"arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"}
	}
	if diff := cmp.Diff(managed, role.ManagedPolicyArns); diff != "" {
		t.Errorf("%s managed policies (-want +got):\n%s", roleID, diff)
	}
	var grants []grant
	for _, p := range role.Policies {
		for _, s := range policyStatements(t, p.PolicyDocument) {
			if s.Effect != "Allow" || s.Principal != nil || s.Condition != nil {
				t.Errorf("%s: statement %+v: want plain Allow statements", roleID, s)
			}
			for _, a := range s.Action {
				for _, r := range s.Resource {
					grants = append(grants, grant{a, r})
				}
			}
		}
	}
	slices.SortFunc(grants, func(a, b grant) int { return strings.Compare(a.Action+" "+a.Resource, b.Action+" "+b.Resource) })
	return grants
}

// TestLeastPrivilege checks that each function's role allows exactly the
// calls the function makes, each on the one resource it makes it on.
func TestLeastPrivilege(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		logs := func(fn string) []grant {
			lg := d.must(t, strings.TrimSuffix(fn, "Function")+"LogGroup", "Arn")
			return []grant{{"logs:CreateLogStream", lg}, {"logs:PutLogEvents", lg}}
		}
		// What Lambda's event source mapping calls to deliver a queue's messages.
		poll := func(q string) []grant {
			arn := d.must(t, q, "Arn")
			return []grant{{"sqs:DeleteMessage", arn}, {"sqs:GetQueueAttributes", arn}, {"sqs:ReceiveMessage", arn}}
		}
		cluster := grant{"eks:DescribeCluster", fmt.Sprintf("arn:aws:eks:%s:%s:cluster/%s", region, account, d.param("ClusterName"))}
		gitSecret := grant{"secretsmanager:GetSecretValue", d.must(t, "GitCredentialSecret", "Ref")}
		ecr := fmt.Sprintf("arn:aws:ecr:%s:%s:repository/%s*", region, account, d.param("ImageRepositoryPrefix"))
		// Flux secretRefs (signing keys, Providers' secrets, age keys) are sluice/<ns>/<name>.
		fluxSecrets := grant{"secretsmanager:GetSecretValue", fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:sluice/*", region, account)}
		want := map[string][]grant{
			"WebhookFunction": join(logs("WebhookFunction"),
				[]grant{{"sqs:SendMessage", d.must(t, "ReconcileQueue", "Arn")}, {"secretsmanager:GetSecretValue", d.must(t, "WebhookSecret", "Ref")}}),
			// Reconcile makes a failed message visible again early (reconcile.RetryDelay).
			"ReconcileFunction": join(logs("ReconcileFunction"), poll("ReconcileQueue"), []grant{cluster, gitSecret, fluxSecrets,
				{"sqs:ChangeMessageVisibility", d.must(t, "ReconcileQueue", "Arn")}}),
			"ImageUpdateFunction": join(logs("ImageUpdateFunction"), poll("ImageQueue"),
				// registry.Lister calls ListImages only; signing keys are
				// Flux secretRefs, sluice/<ns>/<name>.
				[]grant{{"ecr:ListImages", ecr}, gitSecret, fluxSecrets}),
			// Drift also re-evaluates image policies (images/behind).
			"DriftFunction": join(logs("DriftFunction"), []grant{cluster, gitSecret, fluxSecrets, {"ecr:ListImages", ecr},
				{"sqs:SendMessage", d.must(t, "ReconcileQueue", "Arn")}, {"sqs:SendMessage", d.must(t, "ImageQueue", "Arn")}}),
		}
		// spec.decryption: age keys from the Flux secrets (above), KMS keys given only.
		for _, fn := range []string{"ReconcileFunction", "DriftFunction"} {
			for _, key := range strings.Split(d.param("SopsKmsKeyArns"), ",") {
				if key != "" {
					want[fn] = append(want[fn], grant{"kms:Decrypt", key})
				}
			}
		}
		if topic := d.param("DriftTopicArn"); topic != "" {
			want["DriftFunction"] = append(want["DriftFunction"], grant{"sns:Publish", topic})
		}
		// sns Providers publish to the topics NotificationTopicArns names only.
		for _, topic := range strings.Split(d.param("NotificationTopicArns"), ",") {
			if topic == "" {
				continue
			}
			for _, fn := range []string{"ReconcileFunction", "ImageUpdateFunction", "DriftFunction"} {
				want[fn] = append(want[fn], grant{"sns:Publish", topic})
			}
		}
		for fn, grants := range want {
			slices.SortFunc(grants, func(a, b grant) int { return strings.Compare(a.Action+" "+a.Resource, b.Action+" "+b.Resource) })
			got := functionGrants(t, d, fn)
			if diff := cmp.Diff(grants, got); diff != "" {
				t.Errorf("%s may (-want +got):\n%s", fn, diff)
			}
			for _, g := range got {
				if strings.Contains(g.Action, "*") || g.Resource == "*" || !strings.HasPrefix(g.Resource, "arn:") {
					t.Errorf("%s: %s on %s: no wildcard action, and a resource narrower than *", fn, g.Action, g.Resource)
				}
			}
		}
	})
}

func join(lists ...[]grant) []grant { return slices.Concat(lists...) }
