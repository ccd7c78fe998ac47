package secrets

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/sluice-gitops/sluice/internal/awstest"
)

func manager(t *testing.T, secrets map[string]string) *Manager {
	t.Helper()
	srv := awstest.NewSecretsManagerServer(secrets)
	t.Cleanup(srv.Close)
	return New(secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	}))
}

func TestGetSecret(t *testing.T) {
	m := manager(t, map[string]string{"sluice/webhook": "s3cret"})
	got, err := m.GetSecret(context.Background(), "sluice/webhook")
	if err != nil || got != "s3cret" {
		t.Fatalf("GetSecret = %q, %v", got, err)
	}
	_, err = m.GetSecret(context.Background(), "sluice/nope")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "sluice/nope") {
		t.Fatalf("missing secret: %v, want ErrNotFound naming it", err)
	}
}

// TestGetSecretDropsTrailingNewline: a secret stored from a file, as the
// deployment guide stores the Git token, comes back without the file's final
// line ending; the lines inside a key stay.
func TestGetSecretDropsTrailingNewline(t *testing.T) {
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----"
	m := manager(t, map[string]string{
		"unix": "ghp_token\n", "windows": "ghp_token\r\n", "none": "ghp_token", "key": key + "\n",
	})
	for id, want := range map[string]string{"unix": "ghp_token", "windows": "ghp_token", "none": "ghp_token", "key": key} {
		got, err := m.GetSecret(context.Background(), id)
		if err != nil || got != want {
			t.Errorf("GetSecret(%s) = %q, %v; want %q", id, got, err, want)
		}
	}
}

func TestGetFluxSecret(t *testing.T) {
	m := manager(t, map[string]string{
		"sluice/flux-system/task-tool-ssh-key": `{"identity":"-----BEGIN KEY-----","known_hosts":"github.com ssh-ed25519 AAAA"}`,
		"sluice/flux-system/basic":             `{"username":"u","password":"p"}`,
		"sluice/flux-system/broken":            `password=hunter2`,
	})
	ctx := context.Background()
	tests := []struct {
		name    string
		want    FluxSecret
		wantErr string
	}{
		{name: "task-tool-ssh-key", want: FluxSecret{Identity: "-----BEGIN KEY-----", KnownHosts: "github.com ssh-ed25519 AAAA"}},
		{name: "basic", want: FluxSecret{Username: "u", Password: "p"}},
		{name: "broken", wantErr: "not a JSON object"},
		{name: "absent", wantErr: "secret not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.GetFluxSecret(ctx, "flux-system", tt.name)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatal("the error shows the secret's value")
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("GetFluxSecret = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
