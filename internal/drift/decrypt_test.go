package drift

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/decrypt"
	"github.com/sluice-gitops/sluice/internal/decrypt/decrypttest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/notify"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// Drift on a Secret that a secretGenerator built from a SOPS-encrypted .env
// file compares the decrypted data: none right after the apply, and after
// a hand edit the report names the field path only; neither the value in
// Git nor the edited one reaches the report, the SNS message or the logs.
func TestDriftOnDecryptedSecretReportsFieldPathsOnly(t *testing.T) {
	f := newFixture(t, "drift-sops")
	ns := f.ns
	const inGit, byHand = "git-plaintext-token", "hand-edited-plaintext"
	identity, recipient, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	sm := awstest.NewSecretsManagerServer(map[string]string{"sluice/flux-system/sops-age": `{"age.agekey": "` + identity + `"}`})
	t.Cleanup(sm.Close)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL())
	keys := decrypt.New(secrets.New(nil), nil)
	env, err := decrypttest.Encrypt([]byte("TOKEN="+inGit+"\n"), "dotenv", decrypttest.Keys{AgeRecipients: []string{recipient}})
	if err != nil {
		t.Fatal(err)
	}
	f.commit("encrypted secret", func(dir string) error {
		files := map[string]string{
			"clusters/prod/sops.yaml": "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: sops-" + ns + ", namespace: flux-system}\n" +
				"spec:\n  interval: 5m\n  path: ./sops\n  prune: true\n  targetNamespace: " + ns + "\n  sourceRef: {kind: GitRepository, name: task-tool}\n" +
				"  decryption:\n    provider: sops\n    secretRef: {name: sops-age}\n",
			"sops/kustomization.yaml": "secretGenerator:\n- name: env\n  envs: [app.env]\n  options: {disableNameSuffixHash: true}\n",
			"sops/app.env":            string(env),
		}
		for name, body := range files {
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
	rec := reconcile.New(f.repo, f.git, f.cluster, nil)
	rec.Keys = keys
	if _, err := rec.Reconcile(ctx, queue.Reconcile{Repository: f.repo.ID(), Branch: "main", Reason: queue.ReasonPush}); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	check := func() (*Report, string) {
		t.Helper()
		f.runs++
		var metrics bytes.Buffer
		checker := New(f.repo, f.git, f.cluster, Detect, f.sender)
		checker.Keys = keys
		h := NewHandler(checker, &metrics)
		h.Notifier = notify.NewTopic(sns.New(sns.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.sns.URL()),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}), topicARN)
		rep, err := h.Handle(ctx, json.RawMessage(strings.Replace(scheduled, "RUN", ns+"-"+string(rune('a'+f.runs)), 1)))
		if err != nil {
			t.Fatal(err)
		}
		return rep, metrics.String()
	}
	if rep, _ := check(); len(notInSync(rep)) != 0 {
		t.Fatalf("drift right after the apply: %+v (the decrypted data must be compared)", notInSync(rep))
	}

	secretGVR := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	s, err := f.dyn.Resource(secretGVR).Namespace(ns).Get(ctx, "env", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(s.Object, byHand, "stringData", "TOKEN"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dyn.Resource(secretGVR).Namespace(ns).Update(ctx, s, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	rep, metrics := check()
	want := []kube.ObjectDiff{{ID: "Secret/" + ns + "/env", Status: kube.Drifted, Fields: []string{"/data/TOKEN"}}}
	if diff := cmp.Diff(want, notInSync(rep)); diff != "" {
		t.Fatalf("drift (-want +got):\n%s", diff)
	}
	out, _ := json.Marshal(rep)
	where := map[string]string{"report": string(out), "metrics": metrics, "logs": logs.String()}
	for i, p := range f.sns.Published() {
		where["SNS message "+string(rune('0'+i))] = p.Message
	}
	for _, p := range []string{inGit, byHand} {
		for w, s := range where {
			if strings.Contains(s, p) {
				t.Errorf("the %s hold the plaintext %q", w, p)
			}
		}
	}
}
