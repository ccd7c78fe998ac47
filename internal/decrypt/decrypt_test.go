package decrypt_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/decrypt"
	"github.com/sluice-gitops/sluice/internal/decrypt/decrypttest"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

const kmsARN = "arn:aws:kms:us-east-1:111122223333:key/0b7c3a52-5f0e-4e34-9d2f-2b1a2c3d4e5f"

// keyEnv is a KMS stand-in and a Secrets Manager stand-in, reached through
// the real SDK clients, and an age identity held as spec.decryption.secretRef
// "sops-age" of namespace "apps".
type keyEnv struct {
	kms       *awstest.KMSServer
	recipient string
	keys      *decrypt.Keys
}

func newKeyEnv(t *testing.T) *keyEnv {
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
		"sluice/apps/sops-age":   `{"identity.agekey": "` + identity + `", "README": "not a key"}`,
		"sluice/apps/other-age":  `{"other.agekey": "` + other + `"}`,
		"sluice/apps/broken-age": `{"bad.agekey": "AGE-SECRET-KEY-1NOTAKEY"}`,
	})
	t.Cleanup(sm.Close)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_ENDPOINT_URL_KMS", kms.URL())
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", sm.URL())
	// Neither the function's environment nor its files may hold keys that
	// a Kustomization did not name.
	t.Setenv("SOPS_AGE_KEY", "")
	t.Setenv("SOPS_AGE_KEY_FILE", "")
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	return &keyEnv{kms: kms, recipient: recipient, keys: decrypt.New(secrets.New(nil), nil)}
}

func encrypt(t *testing.T, plain, format string, keys decrypttest.Keys) []byte {
	t.Helper()
	out, err := decrypttest.Encrypt([]byte(plain), format, keys)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const secretYAML = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\nstringData:\n  password: s3cr3t-plaintext\n"

// Files encrypted by SOPS's own Go API, for age or for AWS KMS (whose data
// key the KMS stand-in really encrypted), decrypt with the Kustomization's
// keys, in each format Flux decrypts.
func TestDecryptsWhatSOPSEncrypted(t *testing.T) {
	e := newKeyEnv(t)
	age := decrypttest.Keys{AgeRecipients: []string{e.recipient}}
	kms := decrypttest.Keys{KMSKeyARNs: []string{kmsARN}}
	tests := []struct {
		name, plain, format, file string
		keys                      decrypttest.Keys
		want                      string
	}{
		{name: "dotenv for age", plain: "TOKEN=s3cr3t-plaintext\n", format: "dotenv", file: "app.env", keys: age, want: "TOKEN=s3cr3t-plaintext\n"},
		{name: "dotenv for KMS", plain: "TOKEN=s3cr3t-plaintext\n", format: "dotenv", file: "app.env", keys: kms, want: "TOKEN=s3cr3t-plaintext\n"},
		{name: "JSON", plain: `{"token": "s3cr3t-plaintext"}`, format: "json", file: "config.json", keys: age, want: "s3cr3t-plaintext"},
		{name: "YAML", plain: "token: s3cr3t-plaintext\n", format: "yaml", file: "config.yaml", keys: kms, want: "token: s3cr3t-plaintext\n"},
		{name: "binary", plain: "\x00raw s3cr3t-plaintext\n", format: "binary", file: "key.bin", keys: age, want: "\x00raw s3cr3t-plaintext\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := e.keys.For(context.Background(), "apps", "sops-age")
			if err != nil {
				t.Fatal(err)
			}
			before := e.kms.Decrypts()
			enc := encrypt(t, tt.plain, tt.format, tt.keys)
			got, ok, err := dec.DecryptFile("app/"+tt.file, tt.file, false, enc)
			if err != nil || !ok || !strings.Contains(string(got), tt.want) {
				t.Fatalf("DecryptFile = %q, %v, %v; want %q", got, ok, err, tt.want)
			}
			if len(tt.keys.KMSKeyARNs) > 0 && e.kms.Decrypts() != before+1 {
				t.Errorf("KMS decrypted %d data keys, want 1", e.kms.Decrypts()-before)
			}
			// The same file as a Secret value (a generator read it as is).
			got, ok, err = dec.DecryptValue(tt.file, enc)
			if err != nil || !ok || !strings.Contains(string(got), tt.want) {
				t.Fatalf("DecryptValue = %q, %v, %v; want %q", got, ok, err, tt.want)
			}
		})
	}
}

func TestDecryptsAnObjectAndLeavesPlainFilesAlone(t *testing.T) {
	e := newKeyEnv(t)
	dec, err := e.keys.For(context.Background(), "apps", "")
	if err != nil {
		t.Fatal(err)
	}
	enc := encrypt(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"s3cr3t-plaintext"}}`, "json",
		decrypttest.Keys{KMSKeyARNs: []string{kmsARN}, EncryptedRegex: "^(data|stringData)$"})
	got, err := dec.DecryptObject(enc)
	if err != nil || !strings.Contains(string(got), `"password": "s3cr3t-plaintext"`) || strings.Contains(string(got), `"sops"`) {
		t.Fatalf("DecryptObject = %s, %v", got, err)
	}
	for _, plain := range []string{"TOKEN=plain\n", "token: plain\n"} {
		if got, ok, err := dec.DecryptFile("app/x.env", "x.env", true, []byte(plain)); ok || err != nil || got != nil {
			t.Errorf("a plain file was decrypted: %q, %v, %v", got, ok, err)
		}
	}
}

// A wrong key, a missing or broken key secret, and a tampered file fail
// with a clear reason that carries no plaintext.
func TestFailuresCarryNoPlaintext(t *testing.T) {
	e := newKeyEnv(t)
	forAge := encrypt(t, secretYAML, "yaml", decrypttest.Keys{AgeRecipients: []string{e.recipient}, EncryptedRegex: "^(data|stringData)$"})
	// A value edited by hand in the encrypted file: SOPS would quote it.
	tampered := bytes.Replace(forAge, []byte("password: ENC["), []byte("password: s3cr3t-plaintext #ENC["), 1)
	tests := []struct {
		name, secretRef string
		data            []byte
		want            string
		wantErr         error
	}{
		{name: "wrong age key", secretRef: "other-age", data: forAge, want: "age: identity did not match any of the recipients"},
		{name: "no age key", secretRef: "", data: forAge, want: decrypt.ErrNoAgeKey.Error()},
		{name: "missing secret", secretRef: "gone", data: forAge, wantErr: secrets.ErrNotFound, want: `sluice/apps/gone`},
		{name: "broken key", secretRef: "broken-age", data: forAge, want: `importing "bad.agekey" of sluice/apps/broken-age`},
		{name: "tampered file", secretRef: "sops-age", data: tampered, want: "<redacted>"},
		{name: "KMS key it was not encrypted for", secretRef: "",
			data: encrypt(t, secretYAML, "yaml", decrypttest.Keys{KMSKeyARNs: []string{kmsARN}, EncryptedRegex: "^(data|stringData)$"}),
			want: "arn:aws:kms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data
			if tt.name == "KMS key it was not encrypted for" {
				// Point the file at a key the stand-in does not hold.
				data = bytes.ReplaceAll(data, []byte(kmsARN), []byte(strings.Replace(kmsARN, "0b7c", "dead", 1)))
			}
			dec, err := e.keys.For(context.Background(), "apps", tt.secretRef)
			if err == nil {
				_, _, err = dec.DecryptFile("app/db.yaml", "db.yaml", false, data)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if strings.Contains(err.Error(), "s3cr3t-plaintext") {
				t.Errorf("error carries the plaintext: %v", err)
			}
		})
	}
}

var _ desired.Keys = (*decrypt.Keys)(nil)
