package render_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/decrypt"
	"github.com/sluice-gitops/sluice/internal/decrypt/decrypttest"
	"github.com/sluice-gitops/sluice/internal/render"
)

// ageSecrets holds one age identity as the secret "apps/sops-age".
type ageSecrets map[string]string

func (s ageSecrets) GetFluxSecretData(_ context.Context, ns, name string) (map[string]string, error) {
	if ns+"/"+name != "apps/sops-age" {
		return nil, errors.New("no such secret")
	}
	return s, nil
}

func sopsEncrypt(t *testing.T, plain, format, recipient string, regex string) string {
	t.Helper()
	out, err := decrypttest.Encrypt([]byte(plain), format, decrypttest.Keys{AgeRecipients: []string{recipient}, EncryptedRegex: regex})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func secretData(t *testing.T, objs []*unstructured.Unstructured, name string) map[string]string {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Secret" && o.GetName() == name {
			data, _, _ := unstructured.NestedStringMap(o.Object, "data")
			out := map[string]string{}
			for k, v := range data {
				b, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					t.Fatal(err)
				}
				out[k] = string(b)
			}
			plain, _, _ := unstructured.NestedStringMap(o.Object, "stringData")
			for k, v := range plain {
				out[k] = v
			}
			if _, has := o.Object["sops"]; has {
				t.Errorf("Secret %s keeps its sops field", name)
			}
			return out
		}
	}
	t.Fatalf("no Secret %s in %d objects", name, len(objs))
	return nil
}

// What Flux's kustomize-controller decrypts, render decrypts: encrypted
// objects, the files secretGenerators read (envs as dotenv, files by their
// key's format, in kustomizations the build reaches through resources and
// components), patch files, and Secret values holding an encrypted file;
// variables are substituted after decryption. The working tree is never
// written: the plaintext exists only in the objects.
func TestBuildDecryptsAsFlux(t *testing.T) {
	identity, recipient, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	regex := "^(data|stringData)$"
	envValue := base64.StdEncoding.EncodeToString([]byte(sopsEncrypt(t, "NESTED=value-plaintext\n", "dotenv", recipient, "")))
	files := map[string]string{
		"app/kustomization.yaml": "resources: [secret.yaml, base, value.yaml]\n" +
			"secretGenerator:\n- name: env\n  envs: [app.env]\n  options: {disableNameSuffixHash: true}\n" +
			"- name: files\n  files: [config.json=enc/config.json, key.bin]\n  options: {disableNameSuffixHash: true}\n" +
			"patches:\n- path: patch.yaml\n",
		"app/secret.yaml":             sopsEncrypt(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${prefix}-db-plaintext\n", "yaml", recipient, regex),
		"app/app.env":                 sopsEncrypt(t, "TOKEN=env-plaintext\n", "dotenv", recipient, ""),
		"app/enc/config.json":         sopsEncrypt(t, `{"token": "json-plaintext"}`, "json", recipient, ""),
		"app/key.bin":                 sopsEncrypt(t, "binary-plaintext", "binary", recipient, ""),
		"app/patch.yaml":              sopsEncrypt(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  patched: patch-plaintext\n", "yaml", recipient, "^patched$"),
		"app/value.yaml":              "apiVersion: v1\nkind: Secret\nmetadata:\n  name: value\ndata:\n  nested.env: " + envValue + "\n",
		"app/base/kustomization.yaml": "resources: [cm.yaml]\nsecretGenerator:\n- name: base\n  envs: [base.env]\n  options: {disableNameSuffixHash: true}\n",
		"app/base/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  plain: x\n",
		"app/base/base.env":           sopsEncrypt(t, "BASE=base-plaintext\n", "dotenv", recipient, ""),
	}
	root := writeTree(t, files)
	dec, err := decrypt.New(ageSecrets{"age.agekey": identity}, nil).For(context.Background(), "apps", "sops-age")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := render.Build(root, render.Options{Path: "./app", Decryptor: dec, Substitute: map[string]string{"prefix": "substituted"}})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ secret, key, want string }{
		{"db", "password", "substituted-db-plaintext"},
		{"env", "TOKEN", "env-plaintext"},
		{"files", "config.json", "json-plaintext"},
		{"files", "key.bin", "binary-plaintext"},
		{"base", "BASE", "base-plaintext"},
		{"value", "nested.env", "NESTED=value-plaintext"},
	}
	for _, c := range checks {
		if got := secretData(t, objs, c.secret)[c.key]; !strings.Contains(got, c.want) {
			t.Errorf("Secret %s key %s = %q, want %q", c.secret, c.key, got, c.want)
		}
	}
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			if got, _, _ := unstructured.NestedString(o.Object, "data", "patched"); got != "patch-plaintext" {
				t.Errorf("patched ConfigMap data = %v", o.Object["data"])
			}
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil || string(got) != want {
			t.Errorf("%s was changed on disk", name)
		}
	}
}

// An encrypted Secret in a build without spec.decryption fails it, as in
// Flux, rather than storing ciphertext; the decrypt: disabled mark lets it
// through as it is.
func TestBuildRefusesEncryptedSecretWithoutDecryption(t *testing.T) {
	_, recipient, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	secret := sopsEncrypt(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: plaintext\n", "yaml", recipient, "^(data|stringData)$")
	root := writeTree(t, map[string]string{"app/secret.yaml": secret})
	if _, err := render.Build(root, render.Options{Path: "./app"}); !errors.Is(err, render.ErrEncryptedWithoutDecryption) || !strings.Contains(err.Error(), "Secret /db") {
		t.Fatalf("error = %v, want ErrEncryptedWithoutDecryption naming the Secret", err)
	}
	disabled := sopsEncrypt(t, "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  annotations:\n    kustomize.toolkit.fluxcd.io/decrypt: Disabled\nstringData:\n  password: plaintext\n", "yaml", recipient, "^(data|stringData)$")
	root = writeTree(t, map[string]string{"app/secret.yaml": disabled})
	if _, err := render.Build(root, render.Options{Path: "./app"}); err != nil {
		t.Fatalf("a Secret marked decrypt: disabled was refused: %v", err)
	}
}

// A file that does not decrypt fails the build with an error that names it
// and carries no plaintext.
func TestBuildDecryptionErrorNamesTheFile(t *testing.T) {
	_, recipient, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := decrypttest.NewAgeKey()
	if err != nil {
		t.Fatal(err)
	}
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml": "secretGenerator:\n- name: env\n  envs: [app.env]\n",
		"app/app.env":            sopsEncrypt(t, "TOKEN=env-plaintext\n", "dotenv", recipient, ""),
	})
	dec, err := decrypt.New(ageSecrets{"other.agekey": other}, nil).For(context.Background(), "apps", "sops-age")
	if err != nil {
		t.Fatal(err)
	}
	_, err = render.Build(root, render.Options{Path: "./app", Decryptor: dec})
	if err == nil || !strings.Contains(err.Error(), "decrypting app/app.env") || strings.Contains(err.Error(), "env-plaintext") {
		t.Fatalf("error = %v, want one naming app/app.env without plaintext", err)
	}
}
