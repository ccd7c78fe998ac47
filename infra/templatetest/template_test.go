package templatetest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// required are the parameters without a default.
var required = map[string]string{
	"ClusterName": "prod",
	"GitUrl":      "https://github.com/mamezou-tech/task-tool-cluster-config",
	"ConfigPath":  "clusters/prod",
}

// scenarios are the parameter sets every check runs on: the defaults, and
// every option turned the other way.
var scenarios = []struct {
	name   string
	params map[string]string
}{
	{name: "defaults", params: required},
	{name: "every option", params: with(required, map[string]string{
		"GitUrl":                     "ssh://git@github.com/mamezou-tech/task-tool-cluster-config.git",
		"GitBranch":                  "release/prod",
		"GitAuth":                    "ssh-key",
		"GitKnownHosts":              "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
		"AccessMode":                 "rbac",
		"SubnetIds":                  "subnet-0a1b2c3d,subnet-4e5f6a7b",
		"SecurityGroupIds":           "sg-0123456789abcdef0",
		"ImageRepositoryPrefix":      "mamezou-tech/",
		"DriftSchedule":              "rate(15 minutes)",
		"DriftMode":                  "detect",
		"DriftTopicArn":              "arn:aws:sns:ap-northeast-1:111122223333:drift-reports",
		"NotificationTopicArns":      "arn:aws:sns:ap-northeast-1:111122223333:events,arn:aws:sns:ap-northeast-1:111122223333:more-events",
		"AlarmTopicArn":              "arn:aws:sns:ap-northeast-1:111122223333:oncall",
		"WebhookReservedConcurrency": "0",
		"LogRetentionInDays":         "90",
		"SopsKmsKeyArns":             "arn:aws:kms:ap-northeast-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab,arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
	})},
}

func with(base, extra map[string]string) map[string]string {
	out := maps.Clone(base)
	maps.Copy(out, extra)
	return out
}

// forEachScenario runs check on the template deployed with each scenario.
func forEachScenario(t *testing.T, check func(t *testing.T, d *deployment)) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { check(t, deploy(t, sc.params)) })
	}
}

// functionDirs maps each folder of functions/ to the logical id SAM builds it
// as: image-update → ImageUpdateFunction.
func functionDirs(t *testing.T) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(repoRoot, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		id := ""
		for _, part := range strings.Split(e.Name(), "-") {
			r := []rune(part)
			id += string(unicode.ToUpper(r[0])) + string(r[1:])
		}
		out[id+"Function"] = e.Name()
	}
	return out
}

func TestFunctionsAreTheFolders(t *testing.T) {
	dirs := functionDirs(t)
	forEachScenario(t, func(t *testing.T, d *deployment) {
		fns := d.tpl.GetAllServerlessFunctionResources()
		if diff := cmp.Diff(slices.Sorted(maps.Keys(dirs)), slices.Sorted(maps.Keys(fns))); diff != "" {
			t.Errorf("functions in template.yaml vs folders of functions/ (-folders +template):\n%s", diff)
		}
		for id, fn := range fns {
			got := map[string]any{
				"Runtime":       deref(fn.Runtime),
				"Architectures": fn.Architectures,
				"Handler":       deref(fn.Handler),
				"CodeUri":       codeURI(fn.CodeUri),
				"BuildMethod":   fn.AWSCloudFormationMetadata["BuildMethod"],
				"LogFormat":     d.props(t, id)["LoggingConfig"].(map[string]any)["LogFormat"],
			}
			want := map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []string{"arm64"},
				"Handler":       "bootstrap",
				"CodeUri":       ".",
				"BuildMethod":   "makefile",
				// lambdarun logs JSON when Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON.
				"LogFormat": "JSON",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", id, diff)
			}
			if fn.Timeout == nil || fn.MemorySize == nil {
				t.Errorf("%s: Timeout and MemorySize must be chosen, not left to defaults", id)
			}
			logGroup := d.props(t, id)["LoggingConfig"].(map[string]any)["LogGroup"]
			if _, ok := d.tpl.GetAllLogsLogGroupResources()[strings.TrimSuffix(id, "Function")+"LogGroup"]; !ok || logGroup != d.must(t, strings.TrimSuffix(id, "Function")+"LogGroup", "Ref") {
				t.Errorf("%s logs to %v, not to its own log group in the template", id, logGroup)
			}
		}
	})
}

// codeURI is a function's CodeUri when it is a path.
func codeURI(c *serverless.Function_CodeUri) any {
	if c == nil || c.String == nil {
		return c
	}
	return *c.String
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestMakefileTargets checks, without building, that make has the target
// sam build calls for each function and that it builds that function's
// folder into $(ARTIFACTS_DIR)/bootstrap. TestFunctionsBuild builds them.
func TestMakefileTargets(t *testing.T) {
	for id, dir := range functionDirs(t) {
		t.Run(id, func(t *testing.T) {
			out, err := exec.Command("make", "-s", "-n", "-C", repoRoot, "build-"+id, "ARTIFACTS_DIR=/artifacts").CombinedOutput()
			if err != nil {
				t.Fatalf("make -n build-%s: %v\n%s", id, err, out)
			}
			for _, want := range []string{"-o /artifacts/bootstrap", "./functions/" + dir + "\n", "GOOS=linux", "CGO_ENABLED=0"} {
				if !strings.Contains(string(out)+"\n", want) {
					t.Errorf("make build-%s does not run %q:\n%s", id, want, out)
				}
			}
		})
	}
}

// The triggers each function's handler expects: the Function URL's HTTP
// request for webhook, its queue's SQS event for reconcile and image-update,
// the schedule's EventBridge event for drift.
var triggers = map[string]string{
	"WebhookFunction":     "FunctionUrl",
	"ReconcileFunction":   "SQS ReconcileQueue",
	"ImageUpdateFunction": "SQS ImageQueue",
	"DriftFunction":       "Schedule",
}

func TestTriggers(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		for id, fn := range d.tpl.GetAllServerlessFunctionResources() {
			got := functionTriggers(t, d, id)
			if diff := cmp.Diff([]string{triggers[id]}, got); diff != "" {
				t.Errorf("%s triggers (-want +got):\n%s", id, diff)
			}
			if fn.FunctionUrlConfig != nil && fn.FunctionUrlConfig.AuthType != "NONE" {
				// GitHub cannot sign requests with SigV4: the HMAC is the authentication.
				t.Errorf("%s: Function URL AuthType %s, want NONE", id, fn.FunctionUrlConfig.AuthType)
			}
		}
	})
}

// functionTriggers describes how each of a function's event sources reaches
// it, checking their settings on the way.
func functionTriggers(t *testing.T, d *deployment, id string) []string {
	t.Helper()
	props := d.props(t, id)
	var out []string
	if _, ok := props["FunctionUrlConfig"]; ok {
		out = append(out, "FunctionUrl")
	}
	events, _ := props["Events"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(events)) {
		ev := events[name].(map[string]any)
		p := ev["Properties"].(map[string]any)
		switch ev["Type"] {
		case "SQS":
			q := queueByArn(t, d, fmt.Sprint(p["Queue"]))
			out = append(out, "SQS "+q)
			got := map[string]any{"BatchSize": p["BatchSize"], "FunctionResponseTypes": p["FunctionResponseTypes"]}
			// One message at a time, and a failed one reported alone.
			want := map[string]any{"BatchSize": 1.0, "FunctionResponseTypes": []any{"ReportBatchItemFailures"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s event %s (-want +got):\n%s", id, name, diff)
			}
		case "Schedule":
			out = append(out, "Schedule")
			if p["Schedule"] != d.param("DriftSchedule") {
				t.Errorf("%s event %s: schedule %v, want the DriftSchedule parameter %q", id, name, p["Schedule"], d.param("DriftSchedule"))
			}
		default:
			out = append(out, fmt.Sprint(ev["Type"]))
		}
	}
	return out
}

// queueByArn returns the logical id of the queue with that ARN.
func queueByArn(t *testing.T, d *deployment, arn string) string {
	t.Helper()
	for id := range d.tpl.GetAllSQSQueueResources() {
		if d.must(t, id, "Arn") == arn {
			return id
		}
	}
	t.Fatalf("no queue of the template has the ARN %s", arn)
	return ""
}

// consumers maps each queue some function reads to that function.
func consumers() map[string]string {
	out := map[string]string{}
	for fn, trig := range triggers {
		if q, ok := strings.CutPrefix(trig, "SQS "); ok {
			out[q] = fn
		}
	}
	return out
}

func TestQueues(t *testing.T) {
	// EventBridge sets no deduplication id, so its FIFO target needs
	// content-based deduplication; the reconcile queue's senders set ids.
	contentDedup := map[string]bool{"ReconcileQueue": false, "ImageQueue": true}
	forEachScenario(t, func(t *testing.T, d *deployment) {
		queues := d.tpl.GetAllSQSQueueResources()
		dlqs := map[string]bool{}
		for src, fnID := range consumers() {
			q, ok := queues[src]
			if !ok {
				t.Fatalf("queue %s is not in the template", src)
			}
			fn := d.tpl.GetAllServerlessFunctionResources()[fnID]
			if q.FifoQueue == nil || !*q.FifoQueue {
				t.Errorf("%s is not FIFO: one writer per branch needs message groups", src)
			}
			if got, want := q.ContentBasedDeduplication != nil && *q.ContentBasedDeduplication, contentDedup[src]; got != want {
				t.Errorf("%s: ContentBasedDeduplication %v, want %v", src, got, want)
			}
			// AWS: the visibility timeout of a Lambda event source should be at
			// least six times the function's timeout.
			if q.VisibilityTimeout == nil || *q.VisibilityTimeout < 6**fn.Timeout {
				t.Errorf("%s: VisibilityTimeout %v, want at least 6 x %s's timeout %d", src, deref(q.VisibilityTimeout), fnID, *fn.Timeout)
			}
			redrive, _ := q.RedrivePolicy.(map[string]any)
			if redrive == nil {
				t.Errorf("%s has no RedrivePolicy: failed messages would be retried forever", src)
				continue
			}
			dlq := queueByArn(t, d, fmt.Sprint(redrive["deadLetterTargetArn"]))
			dlqs[dlq] = true
			if n, _ := redrive["maxReceiveCount"].(float64); n < 1 {
				t.Errorf("%s: maxReceiveCount %v", src, redrive["maxReceiveCount"])
			}
			d := queues[dlq]
			if d.FifoQueue == nil || !*d.FifoQueue {
				t.Errorf("dead-letter queue %s of FIFO %s must be FIFO", dlq, src)
			}
			// A FIFO message keeps its first enqueue time in the DLQ: it must
			// outlive the source queue's retention (4 days when unset).
			if d.MessageRetentionPeriod == nil || *d.MessageRetentionPeriod < max(345600, derefInt(q.MessageRetentionPeriod)) {
				t.Errorf("dead-letter queue %s keeps messages %v s, less than %s", dlq, deref(d.MessageRetentionPeriod), src)
			}
		}
		for id := range queues {
			if consumers()[id] == "" && !dlqs[id] {
				t.Errorf("queue %s is neither read by a function nor a dead-letter queue", id)
			}
		}
	})
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func TestImageEventRule(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		rules := d.tpl.GetAllEventsRuleResources()
		rule, ok := rules["ImageEventRule"]
		if !ok || len(rules) != 1 {
			t.Fatalf("want the one rule ImageEventRule, have %v", slices.Sorted(maps.Keys(rules)))
		}
		detail := map[string]any{"action-type": []any{"PUSH", "DELETE"}, "result": []any{"SUCCESS"}}
		if p := d.param("ImageRepositoryPrefix"); p != "" {
			detail["repository-name"] = []any{map[string]any{"prefix": p}}
		}
		want := map[string]any{"source": []any{"aws.ecr"}, "detail-type": []any{"ECR Image Action"}, "detail": detail}
		if diff := cmp.Diff(want, rule.EventPattern); diff != "" {
			t.Errorf("event pattern (-want +got):\n%s", diff)
		}
		if len(rule.Targets) != 1 {
			t.Fatalf("%d targets, want the image queue only", len(rule.Targets))
		}
		target := rule.Targets[0]
		if q := queueByArn(t, d, target.Arn); q != "ImageQueue" {
			t.Errorf("the rule targets %s, want ImageQueue", q)
		}
		id, err := repoid.Parse(d.param("GitUrl"))
		if err != nil {
			t.Fatal(err)
		}
		group := queue.GroupID(id, d.param("GitBranch"))
		if target.SqsParameters == nil || target.SqsParameters.MessageGroupId != group {
			t.Errorf("target message group %+v, want %q, the group drift's re-evaluations use", target.SqsParameters, group)
		}
		if d.outputs["MessageGroupId"] != group {
			t.Errorf("output MessageGroupId %v, want %q", d.outputs["MessageGroupId"], group)
		}

		policies := d.tpl.GetAllSQSQueuePolicyResources()
		var statements []statement
		for _, p := range policies {
			if slices.Contains(p.Queues, d.must(t, "ImageQueue", "Ref")) {
				statements = append(statements, policyStatements(t, p.PolicyDocument)...)
			}
		}
		wantStmt := []statement{{
			Effect: "Allow", Principal: map[string]any{"Service": "events.amazonaws.com"},
			Action: []string{"sqs:SendMessage"}, Resource: []string{d.must(t, "ImageQueue", "Arn")},
			Condition: map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": d.must(t, "ImageEventRule", "Arn")}},
		}}
		if diff := cmp.Diff(wantStmt, statements); diff != "" {
			t.Errorf("image queue policy: only the rule may send (-want +got):\n%s", diff)
		}
	})
}

// TestMessageGroupFromGitUrl checks the template's derivation of the image
// queue's message group against internal/queue.GroupID for every form of URL
// the GitUrl parameter accepts, and that it refuses the forms the derivation
// would get wrong.
func TestMessageGroupFromGitUrl(t *testing.T) {
	raw := readTemplate(t)
	long := "https://" + strings.Repeat("h", 40) + ".example.com/" + strings.Repeat("o", 20) + "/" + strings.Repeat("r", 14)
	tests := []struct {
		name, url, branch string
		wantErr           bool
	}{
		{name: "https", url: "https://github.com/mamezou-tech/task-tool-cluster-config", branch: "main"},
		{name: "https .git", url: "https://github.com/mamezou-tech/task-tool-cluster-config.git", branch: "main"},
		{name: "ssh", url: "ssh://git@github.com/mamezou-tech/task-tool-cluster-config", branch: "main"},
		{name: "ssh .git", url: "ssh://git@github.com/mamezou-tech/task-tool-cluster-config.git", branch: "release/1.x"},
		{name: "repository named git", url: "https://gitlab.example.com/git/git.git", branch: "main"},
		{name: "http", url: "http://git.internal/team/config", branch: "prod"},
		{name: "nested groups", url: "https://gitlab.com/a/b/c", branch: "main"},
		{name: "longest", url: long, branch: strings.Repeat("b", 39)},
		{name: "upper case", url: "https://github.com/Mamezou-Tech/config", branch: "main", wantErr: true},
		{name: "scp form", url: "git@github.com:mamezou-tech/config.git", branch: "main", wantErr: true},
		{name: "port", url: "https://git.internal:8443/team/config", branch: "main", wantErr: true},
		{name: "user", url: "https://token@github.com/team/config", branch: "main", wantErr: true},
		{name: "trailing slash", url: "https://github.com/team/config/", branch: "main", wantErr: true},
		{name: "at in branch", url: "https://github.com/team/config", branch: "a@b", wantErr: true},
		{name: "too long", url: long + "x", branch: "main", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tryDeploy(raw, with(required, map[string]string{"GitUrl": tt.url, "GitBranch": tt.branch}))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("GitUrl %q branch %q accepted", tt.url, tt.branch)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			id, err := repoid.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			want := id + "@" + tt.branch
			if got := queue.GroupID(id, tt.branch); got != want {
				t.Fatalf("queue.GroupID = %q: longer than SQS allows, hashed; the parameters' MaxLength must keep it under 128", got)
			}
			if got := d.outputs["MessageGroupId"]; got != want {
				t.Errorf("template derives %q, queue.GroupID %q", got, want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	raw := readTemplate(t)
	tests := []struct {
		name   string
		params map[string]string
		want   []string
	}{
		{name: "defaults", params: required},
		{name: "ssh key without known_hosts", params: with(required, map[string]string{"GitAuth": "ssh-key"}), want: []string{"GitAuth ssh-key needs GitKnownHosts."}},
		{name: "subnets without security groups", params: with(required, map[string]string{"SubnetIds": "subnet-0a1b2c3d"}), want: []string{"SubnetIds need SecurityGroupIds."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newStack(raw, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.brokenRules()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("broken rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccessEntries(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		entries := d.tpl.GetAllEKSAccessEntryResources()
		got := map[string]any{}
		for id, e := range entries {
			var policies []string
			for _, p := range e.AccessPolicies {
				policies = append(policies, p.PolicyArn+" "+p.AccessScope.Type)
			}
			got[id] = map[string]any{"cluster": e.ClusterName, "principal": e.PrincipalArn, "type": deref(e.Type), "groups": e.KubernetesGroups, "policies": policies}
		}
		entry := func(role string) map[string]any {
			e := map[string]any{"cluster": d.param("ClusterName"), "principal": d.must(t, role, "Arn"), "type": "STANDARD", "groups": []string(nil), "policies": []string(nil)}
			if d.param("AccessMode") == "cluster-admin" {
				e["policies"] = []string{"arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy cluster"}
			} else {
				e["groups"] = []string{rbacGroup(t)}
			}
			return e
		}
		// Drift's server-side dry-runs are authorized as writes: it needs the same access.
		want := map[string]any{"ReconcileAccessEntry": entry("ReconcileRole"), "DriftAccessEntry": entry("DriftRole")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("access entries (-want +got):\n%s", diff)
		}
		for fn, role := range map[string]string{"ReconcileFunction": "ReconcileRole", "DriftFunction": "DriftRole"} {
			if r := deref(d.tpl.GetAllServerlessFunctionResources()[fn].Role); r != d.must(t, role, "Arn") {
				t.Errorf("%s runs as %v, not the role its access entry names", fn, r)
			}
		}
	})
}

func TestAlarms(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		topic := d.param("AlarmTopicArn")
		if topic == "" {
			topic = d.must(t, "AlarmTopic", "Ref")
		}
		type alarm struct{ Metric, Dimension, Actions string }
		var got, want []alarm
		for _, a := range d.tpl.GetAllCloudWatchAlarmResources() {
			if deref(a.Namespace) == "Sluice" && deref(a.MetricName) == "NotificationsFailed" && len(a.Dimensions) == 0 {
				// The functions' EMF metric (alerting): no dimension, one alarm for all.
				a.Dimensions = []cloudwatch.Alarm_Dimension{{Name: "", Value: ""}}
			}
			if len(a.Dimensions) != 1 || deref(a.Threshold) != 0.0 || a.ComparisonOperator != "GreaterThanThreshold" || deref(a.TreatMissingData) != "notBreaching" {
				t.Errorf("alarm on %v %v: want one dimension, > 0, missing data not breaching", deref(a.MetricName), a.Dimensions)
				continue
			}
			got = append(got, alarm{
				Metric:    fmt.Sprintf("%v/%v", deref(a.Namespace), deref(a.MetricName)),
				Dimension: a.Dimensions[0].Name + "=" + a.Dimensions[0].Value,
				Actions:   strings.Join(a.AlarmActions, ","),
			})
		}
		for q := range d.tpl.GetAllSQSQueueResources() {
			if consumers()[q] == "" { // a dead-letter queue
				want = append(want, alarm{"AWS/SQS/ApproximateNumberOfMessagesVisible", "QueueName=" + d.must(t, q, "QueueName"), topic})
			}
		}
		for fn := range d.tpl.GetAllServerlessFunctionResources() {
			want = append(want, alarm{"AWS/Lambda/Errors", "FunctionName=" + d.must(t, fn, "Ref"), topic})
		}
		want = append(want, alarm{"Sluice/NotificationsFailed", "=", topic})
		less := func(a, b alarm) int { return strings.Compare(a.Dimension, b.Dimension) }
		slices.SortFunc(got, less)
		slices.SortFunc(want, less)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("alarms (-want +got):\n%s", diff)
		}
	})
}

func TestOutputs(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		alarmTopic := d.param("AlarmTopicArn")
		if alarmTopic == "" {
			alarmTopic = d.must(t, "AlarmTopic", "Ref")
		}
		id, _ := repoid.Parse(d.param("GitUrl"))
		want := map[string]any{
			"WebhookUrl":                  d.must(t, "WebhookFunctionUrl", "FunctionUrl"),
			"WebhookSecretArn":            d.must(t, "WebhookSecret", "Ref"),
			"GitCredentialSecretArn":      d.must(t, "GitCredentialSecret", "Ref"),
			"ReconcileQueueUrl":           d.must(t, "ReconcileQueue", "Ref"),
			"ReconcileDeadLetterQueueUrl": d.must(t, "ReconcileDeadLetterQueue", "Ref"),
			"ImageQueueUrl":               d.must(t, "ImageQueue", "Ref"),
			"ImageDeadLetterQueueUrl":     d.must(t, "ImageDeadLetterQueue", "Ref"),
			"MessageGroupId":              queue.GroupID(id, d.param("GitBranch")),
			"ReconcileFunctionName":       d.must(t, "ReconcileFunction", "Ref"),
			"ImageUpdateFunctionName":     d.must(t, "ImageUpdateFunction", "Ref"),
			"DriftFunctionName":           d.must(t, "DriftFunction", "Ref"),
			"AlarmTopic":                  alarmTopic,
		}
		if diff := cmp.Diff(want, d.outputs); diff != "" {
			t.Errorf("outputs (-want +got):\n%s", diff)
		}
	})
}

// TestCfnLint runs cfn-lint, which translates the template with SAM's own
// translator and checks it against CloudFormation's resource schemas. Without
// cfn-lint it skips, except in CI (CI=true), where .ci/cfn-lint.sh puts it on
// the PATH and its absence is a failure rather than a lint quietly not run.
func TestCfnLint(t *testing.T) {
	lint, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cfn-lint is not on the PATH in CI (.ci/cfn-lint.sh finds or installs it): %v", err)
		}
		t.Skip("cfn-lint is not installed (pip install cfn-lint)")
	}
	out, err := exec.Command(lint, filepath.Join(repoRoot, "template.yaml")).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}
