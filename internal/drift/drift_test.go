package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/notify"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

var env *kubetest.Env

func TestMain(m *testing.M) {
	kubetest.Main(m, kubetest.Options{CRDFiles: kubetest.FixtureCRDs()}, &env)
}

const topicARN = "arn:aws:sns:us-east-1:111122223333:sluice-drift"

const scheduled = `{"version":"0","id":"RUN","detail-type":"Scheduled Event","source":"aws.events","account":"111122223333",
"time":"2026-11-25T12:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:111122223333:rule/sluice-drift"],"detail":{}}`

type fixture struct {
	t            *testing.T
	srv          *gittest.Server
	repo         desired.Repository
	git          *gitrepo.Repo
	cluster      *kube.Manager
	sqs          *awstest.SQSServer
	sender       *queue.Sender
	sns          *awstest.SNSServer
	dyn          dynamic.Interface
	ns, repoName string
	runs         int
}

// newFixture serves the fixture from Git with its Kustomization aimed at a
// fresh namespace (envtest never finishes deleting one), and reconciles it.
func newFixture(t *testing.T, ns string) *fixture {
	t.Helper()
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	name := ns + ".git"
	url := srv.URL(name)
	if _, err := srv.Seed(name, "main", filepath.Join(kubetest.RepoRoot(), "examples", "task-tool-cluster-config"), func(dir string) error {
		return errors.Join(gittest.SetGitRepositoryURL(dir, "clusters/prod", url),
			gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "targetNamespace: prod", "targetNamespace: "+ns),
			gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "name: task-tool\n  namespace", "name: "+ns+"\n  namespace"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := kubetest.CreateNamespace(context.Background(), env.Config, ns); err != nil {
		t.Fatal(err)
	}
	git, _ := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	cluster, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	sqsSrv := awstest.NewSQSServer(awstest.SQSQueue{Name: "reconcile.fifo"})
	t.Cleanup(sqsSrv.Close)
	client := sqs.New(sqs.Options{Region: awstest.SQSRegion, BaseEndpoint: aws.String(sqsSrv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	snsSrv := awstest.NewSNSServer(topicARN)
	t.Cleanup(snsSrv.Close)
	f := &fixture{t: t, sns: snsSrv, srv: srv, git: git, cluster: cluster, sqs: sqsSrv, ns: ns, repoName: name,
		repo:   desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"},
		sender: queue.NewSender(client, sqsSrv.QueueURL("reconcile.fifo")),
		dyn:    dynamic.NewForConfigOrDie(env.Config)}
	f.reconcile(nil)
	return f
}

func (f *fixture) reconcile(names []string) {
	f.t.Helper()
	r := reconcile.New(f.repo, f.git, f.cluster, nil)
	if _, err := r.Reconcile(context.Background(), queue.Reconcile{Repository: f.repo.ID(), Branch: "main", Reason: queue.ReasonDrift, Kustomizations: names}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) drift(mode Mode) (*Report, string) {
	f.t.Helper()
	rep, metrics, err := f.run(mode)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep, metrics
}

// run is one invocation of the drift handler.
func (f *fixture) run(mode Mode) (*Report, string, error) {
	f.t.Helper()
	f.runs++
	var metrics bytes.Buffer
	h := NewHandler(New(f.repo, f.git, f.cluster, mode, f.sender), &metrics)
	h.Notifier = notify.NewTopic(sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.sns.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}), topicARN)
	ev := strings.Replace(scheduled, "RUN", f.ns+"-"+string(rune('a'+f.runs)), 1)
	rep, err := h.Handle(context.Background(), json.RawMessage(ev))
	return rep, metrics.String(), err
}

func (f *fixture) commit(msg string, fn func(string) error) string {
	sha, err := f.srv.Commit(f.repoName, "main", msg, fn)
	if err != nil {
		f.t.Fatal(err)
	}
	return sha
}

func notInSync(rep *Report) []kube.ObjectDiff {
	var out []kube.ObjectDiff
	for _, k := range rep.Kustomizations {
		for _, o := range k.Objects {
			if o.Status != kube.InSync {
				out = append(out, o)
			}
		}
	}
	return out
}

var (
	deployGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	svcGVR    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	cmGVR     = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// tamper does what the someone does: scale with another field
// manager, delete a Service, edit a ConfigMap.
func (f *fixture) tamper() {
	ctx, ns := context.Background(), f.ns
	scale := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "prod-task-service", "namespace": ns}, "spec": map[string]any{"replicas": int64(5)}}}
	if _, err := f.dyn.Resource(deployGVR).Namespace(ns).Apply(ctx, "prod-task-service", scale, metav1.ApplyOptions{FieldManager: "kubectl", Force: true}); err != nil {
		f.t.Fatal(err)
	}
	if err := f.dyn.Resource(svcGVR).Namespace(ns).Delete(ctx, "prod-task-web", metav1.DeleteOptions{}); err != nil {
		f.t.Fatal(err)
	}
	cm, err := f.dyn.Resource(cmGVR).Namespace(ns).Get(ctx, "prod-task-service-config-hb5m86c942", metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	for k := range data {
		data[k] = "edited-by-hand"
	}
	unstructured.SetNestedStringMap(cm.Object, data, "data")
	if _, err := f.dyn.Resource(cmGVR).Namespace(ns).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		f.t.Fatal(err)
	}
}

func TestDriftFoundReportedAndCorrected(t *testing.T) {
	f := newFixture(t, "drift-correct")
	ns := f.ns

	rep, metrics := f.drift(Correct)
	if len(rep.Kustomizations) != 1 || len(rep.Kustomizations[0].Objects) != 9 {
		t.Fatalf("report = %+v", rep)
	}
	if got := notInSync(rep); len(got) != 0 || rep.Queued || rep.Kustomizations[0].Behind {
		t.Fatalf("false drift right after a reconcile: %+v (queued %v)", got, rep.Queued)
	}
	if !strings.Contains(metrics, `"CloudWatchMetrics"`) || !strings.Contains(metrics, `"Drifted":0`) {
		t.Errorf("metrics = %s", metrics)
	}

	f.tamper()
	rep, metrics = f.drift(Correct)
	got := notInSync(rep)
	cmFields := got[0].Fields
	want := []kube.ObjectDiff{
		{ID: "ConfigMap/" + ns + "/prod-task-service-config-hb5m86c942", Status: kube.Drifted, Fields: cmFields},
		{ID: "Deployment/" + ns + "/prod-task-service", Status: kube.Drifted, Fields: []string{"/spec/replicas"}},
		{ID: "Service/" + ns + "/prod-task-web", Status: kube.Missing},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("drift (-want +got):\n%s", diff)
	}
	if len(cmFields) == 0 || !strings.HasPrefix(cmFields[0], "/data/") {
		t.Errorf("ConfigMap fields = %v", cmFields)
	}
	if rep.Drifted != 2 || rep.Missing != 1 || rep.Extra != 0 || !rep.Queued {
		t.Errorf("counts = %d/%d/%d queued %v", rep.Drifted, rep.Missing, rep.Extra, rep.Queued)
	}
	if !strings.Contains(metrics, `"Drifted":2`) || !strings.Contains(metrics, `"Missing":1`) {
		t.Errorf("metrics = %s", metrics)
	}
	if pub := f.sns.Published(); len(pub) != 1 || !strings.Contains(pub[0].Message, "2 drifted, 1 missing") || !strings.Contains(pub[0].Message, "Missing Service/"+ns+"/prod-task-web") {
		t.Errorf("notifications = %+v", pub)
	}
	msgs := f.sqs.Take("reconcile.fifo")
	if len(msgs) != 1 {
		t.Fatalf("%d messages queued, want 1", len(msgs))
	}
	m, err := queue.DecodeReconcile([]byte(msgs[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if m.Reason != queue.ReasonDrift || !cmp.Equal(m.Kustomizations, []string{"flux-system/" + ns}) || msgs[0].GroupID != queue.GroupID(f.repo.ID(), "main") {
		t.Errorf("message = %+v, group %s", m, msgs[0].GroupID)
	}

	// The queued message, reconciled, corrects everything.
	f.reconcile(m.Kustomizations)
	rep, _ = f.drift(Correct)
	if got := notInSync(rep); len(got) != 0 || rep.Queued {
		t.Errorf("after the correction: %+v", got)
	}
}

func TestDetectModeQueuesNothing(t *testing.T) {
	f := newFixture(t, "drift-detect")
	f.tamper()
	rep, _ := f.drift(Detect)
	if len(notInSync(rep)) != 3 || rep.Queued {
		t.Fatalf("detect: %+v queued %v", notInSync(rep), rep.Queued)
	}
	if msgs := f.sqs.Messages("reconcile.fifo"); len(msgs) != 0 {
		t.Errorf("detect mode queued %d messages", len(msgs))
	}
	if rep.Kustomizations[0].Mode != Detect {
		t.Errorf("mode = %s", rep.Kustomizations[0].Mode)
	}
}

func TestIgnoreRuleAndModeAnnotation(t *testing.T) {
	f := newFixture(t, "drift-ignore")
	f.commit("Let the HPA own replicas; report drift only", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "spec:\n",
			"  annotations: {\"sluice.dev/drift-mode\": detect}\nspec:\n  ignore:\n    - paths: [/spec/replicas]\n      target: {kind: Deployment}\n")
	})
	f.reconcile(nil)
	f.tamper()
	rep, _ := f.drift(Correct)
	for _, o := range notInSync(rep) {
		if strings.HasPrefix(o.ID, "Deployment/") {
			t.Errorf("ignored replicas reported: %+v", o)
		}
	}
	if len(notInSync(rep)) != 2 || rep.Queued || rep.Kustomizations[0].Mode != Detect {
		t.Errorf("report = %+v", rep)
	}
}

func TestMissedPushIsBehindAndQueued(t *testing.T) {
	f := newFixture(t, "drift-behind")
	applied := appliedRevision(f)
	head := f.commit("Remove task-web, and nobody told Sluice", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/kustomization.yaml"), "  - task-web/deployment.yaml\n  - task-web/service.yaml\n", "")
	})
	rep, _ := f.drift(Correct)
	k := rep.Kustomizations[0]
	if !k.Behind || k.Revision != applied || k.Head != head || !rep.Queued {
		t.Fatalf("behind = %v, revision %s (want %s), head %s (want %s), queued %v", k.Behind, k.Revision, applied, k.Head, head, rep.Queued)
	}
	// Without task-web, kustomize no longer prefixes the Ingress's reference
	// to its Service: Git's change itself, not yet applied, shows as drift.
	want := []kube.ObjectDiff{
		{ID: "Deployment/" + f.ns + "/prod-task-web", Status: kube.Extra},
		{ID: "Ingress/" + f.ns + "/prod-app-ingress", Status: kube.Drifted, Fields: []string{"/spec/rules/0/http/paths/1/backend/service/name"}},
		{ID: "Service/" + f.ns + "/prod-task-web", Status: kube.Extra},
	}
	if diff := cmp.Diff(want, notInSync(rep)); diff != "" {
		t.Errorf("extra (-want +got):\n%s", diff)
	}
}

// appliedRevision is the revision the inventory records.
func appliedRevision(f *fixture) string {
	f.t.Helper()
	inv, err := f.cluster.Inventory(context.Background(), desired.Owner(f.repo, fluxconfig.Ref{Namespace: "flux-system", Name: f.ns}))
	if err != nil || inv == nil {
		f.t.Fatal(inv, err)
	}
	return inv.Revision
}

func TestHandleRejectsOtherEvents(t *testing.T) {
	h := NewHandler(New(desired.Repository{}, nil, nil, Correct, nil), nil)
	for name, ev := range map[string]string{
		"sqs event":      `{"Records":[{"messageId":"1","eventSource":"aws:sqs","body":"{}"}]}`,
		"ecr event":      strings.Replace(scheduled, `"Scheduled Event","source":"aws.events"`, `"ECR Image Action","source":"aws.ecr"`, 1),
		"not json":       `nope`,
		"unknown fields": `{"hello":"world"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var inv *InvalidEventError
			if _, err := h.Handle(context.Background(), json.RawMessage(ev)); !errors.As(err, &inv) {
				t.Errorf("error = %v, want *InvalidEventError", err)
			}
		})
	}
}

// TestDriftFailsWhenACheckFails: a Kustomization that could not be checked
// fails the invocation (the Errors alarm fires), counts in the metrics and
// is notified, rather than reporting no drift.
func TestDriftFailsWhenACheckFails(t *testing.T) {
	f := newFixture(t, "drift-fails")
	f.commit("Point the Kustomization at a folder that does not exist", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-kustomization.yaml"), "path: ./app/overlays/prod", "path: ./app/overlays/gone")
	})
	rep, metrics, err := f.run(Correct)
	var failed *CheckFailedError
	if !errors.As(err, &failed) || failed.Failures["flux-system/"+f.ns] == "" {
		t.Fatalf("error = %v, want a *CheckFailedError naming flux-system/%s", err, f.ns)
	}
	if !strings.Contains(err.Error(), "gone") {
		t.Errorf("error %q does not say why", err)
	}
	if rep == nil || len(rep.Kustomizations) != 1 || rep.Kustomizations[0].Error == "" {
		t.Errorf("report = %+v", rep)
	}
	for _, want := range []string{`"CheckFailed":1`, `"ChecksFailed":1`, `"Repository":`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s: %s", want, metrics)
		}
	}
	if pub := f.sns.Published(); len(pub) != 1 || !strings.Contains(pub[0].Subject, "failed") || !strings.Contains(pub[0].Message, "check failed") {
		t.Errorf("notifications = %+v", pub)
	}
	if msgs := f.sqs.Messages("reconcile.fifo"); len(msgs) != 0 {
		t.Errorf("%d reconciles queued for a Kustomization that could not be checked", len(msgs))
	}
}

// TestDriftFailsWhenTheClusterIsUnreachable: a cluster that does not answer
// is a failed invocation with its metric, not zero drift.
func TestDriftFailsWhenTheClusterIsUnreachable(t *testing.T) {
	f := newFixture(t, "drift-unreachable")
	cfg := rest.CopyConfig(env.Config)
	cfg.Host = "https://127.0.0.1:1"
	gone, err := kube.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.cluster = gone
	_, metrics, err := f.run(Detect)
	var failed *CheckFailedError
	if !errors.As(err, &failed) {
		t.Fatalf("error = %v, want a *CheckFailedError", err)
	}
	if !strings.Contains(metrics, `"ChecksFailed":1`) {
		t.Errorf("metrics = %s", metrics)
	}
}

// TestDriftHonoursFluxAnnotations: objects an apply leaves alone (ssa:
// IfNotPresent, ssa: Ignore, reconcile: disabled) are not drift: nothing
// reported, queued or notified when someone changes them.
func TestDriftHonoursFluxAnnotations(t *testing.T) {
	f := newFixture(t, "drift-marks")
	ctx, ns := context.Background(), f.ns
	f.commit("Create task-web's Service once, then leave it to its owners", func(dir string) error {
		return gittest.ReplaceInFile(filepath.Join(dir, "app/overlays/prod/task-web/service.yaml"), "  namespace: prod\n",
			"  namespace: prod\n  annotations: {kustomize.toolkit.fluxcd.io/ssa: IfNotPresent}\n")
	})
	f.reconcile(nil)
	mark := func(gvr schema.GroupVersionResource, name, key, value string) {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, key, value)
		if _, err := f.dyn.Resource(gvr).Namespace(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
			t.Fatal(err)
		}
	}
	mark(deployGVR, "prod-task-service", "kustomize.toolkit.fluxcd.io/ssa", "Ignore")
	mark(cmGVR, "prod-task-service-config-hb5m86c942", "kustomize.toolkit.fluxcd.io/reconcile", "disabled")
	mark(svcGVR, "prod-task-web", "team", "web")
	// Scale the Deployment, edit the ConfigMap; the Service's annotation
	// above is already a change to an IfNotPresent object.
	scale := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "prod-task-service", "namespace": ns}, "spec": map[string]any{"replicas": int64(5)}}}
	if _, err := f.dyn.Resource(deployGVR).Namespace(ns).Apply(ctx, "prod-task-service", scale, metav1.ApplyOptions{FieldManager: "hpa", Force: true}); err != nil {
		t.Fatal(err)
	}
	mark(cmGVR, "prod-task-service-config-hb5m86c942", "edited", "by-hand")
	if _, err := f.dyn.Resource(svcGVR).Namespace(ns).Patch(ctx, "prod-task-web", types.MergePatchType, []byte(`{"spec":{"selector":{"app":"other"}}}`), metav1.PatchOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}

	rep, _ := f.drift(Correct)
	if got := notInSync(rep); len(got) != 0 || rep.Queued {
		t.Errorf("marked objects reported: %+v (queued %v)", got, rep.Queued)
	}
	if pub := f.sns.Published(); len(pub) != 0 {
		t.Errorf("notifications = %+v", pub)
	}
	if msgs := f.sqs.Messages("reconcile.fifo"); len(msgs) != 0 {
		t.Errorf("%d reconciles queued", len(msgs))
	}
}
