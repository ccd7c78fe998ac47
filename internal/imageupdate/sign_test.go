package imageupdate

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// TestSignedCommits: an automation with spec.git.commit.signingKey commits
// signed with the OpenPGP key of Secrets Manager's sluice/<ns>/<name>
// (Flux's keys git.asc and passphrase), and never commits unsigned when the
// key cannot be had.
func TestSignedCommits(t *testing.T) {
	const passphrase = "correct horse"
	plain, plainPub := openPGPKey(t, "")
	encrypted, encryptedPub := openPGPKey(t, passphrase)
	tests := []struct {
		name    string
		secret  map[string]string // nil: no secret
		public  string
		wantErr string
	}{
		{name: "key", secret: map[string]string{"git.asc": plain}, public: plainPub},
		{name: "encrypted key with passphrase", secret: map[string]string{"git.asc": encrypted, "passphrase": passphrase}, public: encryptedPub},
		{name: "encrypted key without passphrase", secret: map[string]string{"git.asc": encrypted},
			wantErr: "secret sluice/flux-system/signing-key: the OpenPGP signing key is encrypted and no passphrase was given"},
		{name: "no git.asc", secret: map[string]string{"identity": "x"}, wantErr: `secret sluice/flux-system/signing-key has no "git.asc" key`},
		{name: "no secret", wantErr: "reading secret sluice/flux-system/signing-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, func(dir string) error {
				return gittest.ReplaceInFile(filepath.Join(dir, "clusters/prod/task-tool-automation.yaml"), "        name: fluxcdbot",
					"        name: fluxcdbot\n      signingKey:\n        secretRef:\n          name: signing-key")
			})
			stored := map[string]string{}
			if tt.secret != nil {
				b, _ := json.Marshal(tt.secret)
				stored[secrets.FluxSecretID("flux-system", "signing-key")] = string(b)
			}
			sm := awstest.NewSecretsManagerServer(stored)
			t.Cleanup(sm.Close)
			h := w.handler(token)
			h.updater.Secrets = secrets.New(secretsmanager.New(secretsmanager.Options{
				Region: region, BaseEndpoint: aws.String(sm.URL()),
				Credentials: credentials.NewStaticCredentialsProvider("AKIDSIGNTEST", "secret", ""),
			}))
			seed := w.head()
			w.push(taskService, "1.1.0")
			_, err := h.Handle(t.Context(), ecrEvent(t, ActionPush, taskService, "1.1.0", nil))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if w.head() != seed {
					t.Fatal("committed without the signing key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := w.git.LastCommit(repoName, "main")
			if err != nil {
				t.Fatal(err)
			}
			if c.Hash.String() == seed || c.PGPSignature == "" {
				t.Fatalf("commit %s is not a signed update", c.Hash)
			}
			if _, err := c.Verify(tt.public); err != nil {
				t.Errorf("signature does not verify with the key's public part: %v", err)
			}
		})
	}
}

// openPGPKey makes an OpenPGP key and returns its armored private key
// (encrypted with passphrase unless empty) and armored public key.
func openPGPKey(t *testing.T, passphrase string) (string, string) {
	t.Helper()
	e, err := openpgp.NewEntity("fluxcdbot", "", "fluxcdbot@users.noreply.github.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	pw, _ := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err := e.Serialize(pw); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var priv bytes.Buffer
	w, _ := armor.Encode(&priv, openpgp.PrivateKeyType, nil)
	if passphrase == "" {
		err = e.SerializePrivate(w, nil)
	} else {
		if err = e.EncryptPrivateKeys([]byte(passphrase), nil); err == nil {
			err = e.SerializePrivateWithoutSigning(w, nil)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	return priv.String(), pub.String()
}
