package gitrepo

import (
	"context"
	"strings"
	"testing"
)

// TestCredentialsInURL: a token written into the URL authenticates, as git
// would use it, and is in no error, whatever fails, nor in URL().
func TestCredentialsInURL(t *testing.T) {
	ctx := context.Background()
	_, url := serve(t)
	withCreds := func(userinfo string) string { return strings.Replace(url, "://", "://"+userinfo+"@", 1) }

	repo, err := New(withCreds("x-access-token:t0ken"), Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(repo.URL(), "t0ken") {
		t.Errorf("URL() = %s", repo.URL())
	}
	co, err := repo.Clone(ctx, "main")
	if err != nil {
		t.Fatalf("clone with the token in the URL: %v", err)
	}
	co.Close()

	tests := []struct {
		name, url, secret string
		creds             Credentials
	}{
		{name: "unreachable", url: "https://x-access-token:s3cret@127.0.0.1:1/o/r.git", secret: "s3cret"},
		{name: "token as user, unreachable", url: "https://s3cret@127.0.0.1:1/o/r.git", secret: "s3cret"},
		{name: "refused by the server", url: withCreds("x-access-token:s3cret"), secret: "s3cret"},
		{name: "no such repository", url: strings.Replace(withCreds("x-access-token:t0ken"), "config.git", "missing.git", 1), secret: "t0ken"},
		{name: "token configured too", url: withCreds("x-access-token:s3cret"), creds: Credentials{Password: "t0ken"}, secret: "s3cret"},
		{name: "ssh password", url: "ssh://git:s3cret@127.0.0.1:1/o/r.git", creds: Credentials{SSHKey: []byte("k"), KnownHosts: []byte("h")}, secret: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo, err := New(tt.url, tt.creds)
			if err == nil {
				if _, herr := repo.Head(ctx, "main"); herr == nil || strings.Contains(herr.Error(), tt.secret) {
					t.Errorf("Head: %v", herr)
				}
				if _, err = repo.Clone(ctx, "main"); err == nil {
					t.Fatal("cloned")
				}
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("the error shows the credential: %v", err)
			}
		})
	}
}
