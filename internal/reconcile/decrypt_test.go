package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/decrypt"
	"github.com/sluice-gitops/sluice/internal/decrypt/decrypttest"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

const kmsARN = "arn:aws:kms:us-east-1:111122223333:key/7d1c0e2a-3b4f-4a5e-8c9d-0e1f2a3b4c5d"

// plaintexts are the values encrypted in Git, which must reach the cluster
// and nothing else.
var plaintexts = []string{"age-plaintext-1", "kms-plaintext-2", "env-plaintext-3", "age-plaintext-4"}

// sopsKeys starts the KMS and Secrets Manager stand-ins (reached by the
// real SDK clients), with an age identity as spec.decryption.secretRef
// "sops-age" and another as "other-age", both of flux-system, and returns
// the keys a function would decrypt with and the age recipient.
func sopsKeys(t *testing.T) (*decrypt.Keys, *awstest.KMSServer, string) {
	t.Helper()
	identity, recipient, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	kms := awstest.NewKMSServer(kmsARN)
	t.Cleanup(kms.Close)
	sm := awstest.NewSecretsManagerServer(map[string]string{
		"sluice/flux-system/sops-age":  `{"identity.agekey": "` + identity + `"}`,
		"sluice/flux-system/other-age": `{"identity.agekey": "` + other + `"}`,
	})
	t.Cleanup(sm.Close)
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_KMS": kms.URL(), "AWS_ENDPOINT_URL_SECRETS_MANAGER": sm.URL()} {
		t.Setenv(k, v)
	}
	return decrypt.New(secrets.New(nil), nil), kms, recipient
}

func sopsFile(t *testing.T, plain, format string, keys decrypttest.Keys) string {
	t.Helper()
	out, err := decrypttest.Encrypt([]byte(plain), format, keys)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func secretYAML(name, key, value string) string {
	return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\ntype: Opaque\nstringData:\n  " + key + ": " + value + "\n"
}

// captureLogs sends slog's default logger to a buffer for the test.
func captureLogs(t *testing.T) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func secretValue(t *testing.T, ns, name, key string) string {
	t.Helper()
	s, err := kubernetes.NewForConfigOrDie(env.Config).CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return string(s.Data[key])
}

// noPlaintext fails when any of what Sluice writes besides the cluster's
// Secrets (logs, the result, the error and so the commit status, the
// inventory) holds a plaintext.
func (c *configRepo) noPlaintext(logs *bytes.Buffer, res *Result, err error) {
	c.t.Helper()
	out, _ := json.Marshal(res)
	inv, _ := json.Marshal(c.inventory("app"))
	where := map[string]string{"logs": logs.String(), "result": string(out), "inventory": string(inv)}
	if err != nil {
		where["error"] = err.Error()
	}
	for _, p := range plaintexts {
		for w, s := range where {
			if strings.Contains(s, p) {
				c.t.Errorf("the %s hold the plaintext %q", w, p)
			}
		}
	}
}

// SOPS-encrypted Secrets in Git (for age, with the key of
// spec.decryption.secretRef, and for AWS KMS, whose stand-in really
// encrypted the data key) and a secretGenerator's encrypted .env file are
// applied decrypted; the plaintext reaches the cluster and nothing else.
func TestSOPSSecretsAppliedDecrypted(t *testing.T) {
	ctx := context.Background()
	keys, kms, recipient := sopsKeys(t)
	ns := freshNS(t, "sops")
	regex := "^(data|stringData)$"
	c := newConfigRepo(t, ns, map[string]string{
		"clusters/c/app.yaml": kustomization("app", "./app", ns, "  prune: true\n  decryption:\n    provider: sops\n    secretRef: {name: sops-age}\n"),
		"app/kustomization.yaml": "resources: [age.yaml, kms.yaml]\n" +
			"secretGenerator:\n- name: env\n  envs: [app.env]\n  options: {disableNameSuffixHash: true}\n",
		"app/age.yaml": sopsFile(t, secretYAML("by-age", "password", plaintexts[0]), "yaml", decrypttest.Keys{AgeRecipients: []string{recipient}, EncryptedRegex: regex}),
		"app/kms.yaml": sopsFile(t, secretYAML("by-kms", "password", plaintexts[1]), "yaml", decrypttest.Keys{KMSKeyARNs: []string{kmsARN}, EncryptedRegex: regex}),
		"app/app.env":  sopsFile(t, "TOKEN="+plaintexts[2]+"\n", "dotenv", decrypttest.Keys{AgeRecipients: []string{recipient}}),
	})
	c.rec.Keys = keys
	logs := captureLogs(t)
	res, err := c.reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct{ name, key, want string }{{"by-age", "password", plaintexts[0]}, {"by-kms", "password", plaintexts[1]}, {"env", "TOKEN", plaintexts[2]}} {
		if got := secretValue(t, ns, s.name, s.key); got != s.want {
			t.Errorf("Secret %s %s = %q, want %q", s.name, s.key, got, s.want)
		}
	}
	if kms.Decrypts() == 0 {
		t.Error("KMS was never asked for the data key")
	}
	c.noPlaintext(logs, res, err)
}

// A Kustomization whose decryption fails (a wrong key, a missing key
// secret, a tampered file) fails alone with a clear reason that carries no
// plaintext, and applies nothing: its Secret keeps its value, its other
// changes wait, and the other Kustomization applies.
func TestSOPSFailureFailsAloneAndAppliesNothing(t *testing.T) {
	ctx := context.Background()
	keys, _, recipient := sopsKeys(t)
	ageKeys := decrypttest.Keys{AgeRecipients: []string{recipient}}
	decryption := func(ref string) string {
		return "  prune: true\n  decryption:\n    provider: sops\n    secretRef: {name: " + ref + "}\n"
	}
	tests := []struct {
		name   string
		files  func(t *testing.T) map[string]string
		reason string
	}{
		{name: "wrong key", reason: "decrypting app/app.env", files: func(*testing.T) map[string]string {
			return map[string]string{"clusters/c/app.yaml": kustomization("app", "./app", "NS", decryption("other-age"))}
		}},
		{name: "missing key secret", reason: `reading spec.decryption.secretRef gone: reading secret "sluice/flux-system/gone": secret not found`, files: func(*testing.T) map[string]string {
			return map[string]string{"clusters/c/app.yaml": kustomization("app", "./app", "NS", decryption("gone"))}
		}},
		{name: "tampered file", reason: "decrypting app/app.env", files: func(t *testing.T) map[string]string {
			enc := sopsFile(t, "TOKEN="+plaintexts[3]+"\n", "dotenv", ageKeys)
			return map[string]string{"app/app.env": strings.Replace(enc, "TOKEN=ENC[", "TOKEN="+plaintexts[3]+"ENC[", 1)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := freshNS(t, "sopsfail")
			c := newConfigRepo(t, ns, map[string]string{
				"clusters/c/app.yaml":    kustomization("app", "./app", ns, decryption("sops-age")),
				"clusters/c/other.yaml":  kustomization("other", "./other", ns, "  prune: true\n"),
				"app/kustomization.yaml": "resources: [cm.yaml]\nsecretGenerator:\n- name: env\n  envs: [app.env]\n  options: {disableNameSuffixHash: true}\n",
				"app/cm.yaml":            configMapYAML("app"),
				"app/app.env":            sopsFile(t, "TOKEN="+plaintexts[0]+"\n", "dotenv", ageKeys),
				"other/cm.yaml":          configMapYAML("other"),
			})
			c.rec.Keys = keys
			if _, err := c.reconcile(ctx); err != nil {
				t.Fatal(err)
			}
			change := tt.files(t)
			for k, v := range change {
				change[k] = strings.ReplaceAll(v, "targetNamespace: NS", "targetNamespace: "+ns)
			}
			change["app/cm.yaml"] = configMapYAML("app-v2")
			change["other/cm.yaml"] = configMapYAML("other-v2")
			c.commit(change)
			logs := captureLogs(t)
			res, err := c.reconcile(ctx)
			var rerr *Error
			if !errors.As(err, &rerr) || len(rerr.Failed) != 1 || rerr.Failed[0].Name != "flux-system/app" || !strings.Contains(rerr.Failed[0].Reason, tt.reason) {
				t.Fatalf("error = %v, want app alone failed saying %q", err, tt.reason)
			}
			if !configMapExists(t, ns, "app") || configMapExists(t, ns, "app-v2") || !configMapExists(t, ns, "other-v2") {
				t.Error("cluster state: want app kept as it was, app-v2 not applied, other-v2 applied")
			}
			if got := secretValue(t, ns, "env", "TOKEN"); got != plaintexts[0] {
				t.Errorf("the Secret changed to %q", got)
			}
			c.noPlaintext(logs, res, err)
		})
	}
}
