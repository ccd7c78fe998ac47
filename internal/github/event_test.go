package github

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	commitID = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
	before   = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
	zeros    = "0000000000000000000000000000000000000000"
)

// repoJSON is the repository object of a push, with unix-time timestamps as
// GitHub sends them in push events.
const repoJSON = `"repository":{"id":1,"name":"task-tool-cluster-config","full_name":"mamezou-tech/task-tool-cluster-config",
"html_url":"https://github.com/mamezou-tech/task-tool-cluster-config",
"git_url":"git://github.com/mamezou-tech/task-tool-cluster-config.git",
"ssh_url":"git@github.com:mamezou-tech/task-tool-cluster-config.git",
"clone_url":"https://github.com/mamezou-tech/task-tool-cluster-config.git",
"created_at":1700000000,"pushed_at":1773310530}`

var fixtureRepo = Repository{
	FullName: "mamezou-tech/task-tool-cluster-config",
	CloneURL: "https://github.com/mamezou-tech/task-tool-cluster-config.git",
	SSHURL:   "git@github.com:mamezou-tech/task-tool-cluster-config.git",
	GitURL:   "git://github.com/mamezou-tech/task-tool-cluster-config.git",
	HTMLURL:  "https://github.com/mamezou-tech/task-tool-cluster-config",
}

func TestParsePush(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Push
		wantErr error
	}{
		{
			name:    "branch",
			payload: `{"ref":"refs/heads/main","before":"` + before + `","after":"` + commitID + `","created":false,"deleted":false,"forced":true,` + repoJSON + `}`,
			want:    Push{Repository: fixtureRepo, Ref: "refs/heads/main", Branch: "main", Before: before, After: commitID, Forced: true},
		},
		{
			name:    "branch with slash, created",
			payload: `{"ref":"refs/heads/feature/x","before":"` + zeros + `","after":"` + commitID + `","created":true,` + repoJSON + `}`,
			want:    Push{Repository: fixtureRepo, Ref: "refs/heads/feature/x", Branch: "feature/x", Before: zeros, After: commitID, Created: true},
		},
		{
			name:    "tag",
			payload: `{"ref":"refs/tags/v1.1.0","before":"` + zeros + `","after":"` + commitID + `","created":true,` + repoJSON + `}`,
			want:    Push{Repository: fixtureRepo, Ref: "refs/tags/v1.1.0", Tag: "v1.1.0", Before: zeros, After: commitID, Created: true},
		},
		{
			name:    "branch deleted",
			payload: `{"ref":"refs/heads/old","before":"` + before + `","after":"` + zeros + `","deleted":true,` + repoJSON + `}`,
			want:    Push{Repository: fixtureRepo, Ref: "refs/heads/old", Branch: "old", Before: before, After: zeros, Deleted: true},
		},
		{
			name:    "sha256 repository",
			payload: `{"ref":"refs/heads/main","after":"` + commitID + `012345678901234567890123","repository":{"clone_url":"https://github.com/o/r.git"}}`,
			want:    Push{Repository: Repository{CloneURL: "https://github.com/o/r.git"}, Ref: "refs/heads/main", Branch: "main", After: commitID + "012345678901234567890123"},
		},
		{name: "not json", payload: `ref=main`, wantErr: ErrMalformed},
		{name: "null", payload: `null`, wantErr: ErrMalformed},
		{name: "array", payload: `[]`, wantErr: ErrMalformed},
		{name: "empty", payload: ``, wantErr: ErrMalformed},
		{name: "no repository", payload: `{"ref":"refs/heads/main","after":"` + commitID + `"}`, wantErr: ErrMalformed},
		{name: "no ref", payload: `{"after":"` + commitID + `",` + repoJSON + `}`, wantErr: ErrMalformed},
		{name: "short after", payload: `{"ref":"refs/heads/main","after":"abc",` + repoJSON + `}`, wantErr: ErrMalformed},
		{name: "wrong type", payload: `{"ref":1,` + repoJSON + `}`, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePush([]byte(tt.payload))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePush error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePush (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRepositoryURLs(t *testing.T) {
	want := []string{fixtureRepo.CloneURL, fixtureRepo.SSHURL, fixtureRepo.GitURL, fixtureRepo.HTMLURL}
	if diff := cmp.Diff(want, fixtureRepo.URLs()); diff != "" {
		t.Errorf("URLs (-want +got):\n%s", diff)
	}
	if got := (Repository{HTMLURL: "https://h/o/r"}).URLs(); !cmp.Equal(got, []string{"https://h/o/r"}) {
		t.Errorf("URLs skips empty ones: got %q", got)
	}
}

func TestParsePing(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Ping
		wantErr error
	}{
		{name: "ping", payload: `{"zen":"Design for failure.","hook_id":42,"hook":{"type":"Repository","id":42,"events":["push"]}}`, want: Ping{HookID: 42, Zen: "Design for failure."}},
		{name: "not json", payload: `{`, wantErr: ErrMalformed},
		{name: "null", payload: `null`, wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePing([]byte(tt.payload))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePing error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePing (-want +got):\n%s", diff)
			}
		})
	}
}
