package images

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

const configURL = "ssh://git@github.com/mamezou-tech/task-tool-cluster-config"

func TestAutomations(t *testing.T) {
	source := fluxconfig.GitRepository{Ref: ref("task-tool"), URL: configURL, Branch: "main"}
	auto := func(mut func(*fluxconfig.ImageUpdateAutomation)) fluxconfig.ImageUpdateAutomation {
		a := fluxconfig.ImageUpdateAutomation{
			Ref: ref("task-tool"), SourceRef: fluxconfig.CrossRef{Kind: "GitRepository", Ref: ref("task-tool")},
			CheckoutBranch: "main", PushBranch: "main", AuthorName: "fluxcdbot", AuthorEmail: "fluxcdbot@users.noreply.github.com",
			UpdatePath: "./app/overlays/prod", Strategy: "Setters",
		}
		if mut != nil {
			mut(&a)
		}
		return a
	}
	tests := []struct {
		name    string
		sources []fluxconfig.GitRepository
		autos   []fluxconfig.ImageUpdateAutomation
		url     string
		branch  string
		want    []string // "<ns>/<name> <path> -> <push branch>"
		wantErr string
	}{
		{name: "fixture", autos: []fluxconfig.ImageUpdateAutomation{auto(nil)}, want: []string{"flux-system/task-tool app/overlays/prod -> main"}},
		{name: "same repository in another URL form", url: "https://github.com/Mamezou-Tech/task-tool-cluster-config.git",
			autos: []fluxconfig.ImageUpdateAutomation{auto(nil)}, want: []string{"flux-system/task-tool app/overlays/prod -> main"}},
		{name: "push branch defaults to the checkout branch", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.PushBranch = "" })},
			want: []string{"flux-system/task-tool app/overlays/prod -> main"}},
		{name: "push to another branch", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.PushBranch = "image-updates" })},
			want: []string{"flux-system/task-tool app/overlays/prod -> image-updates"}},
		{name: "checkout branch from the GitRepository", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.CheckoutBranch, a.PushBranch = "", "" })},
			want: []string{"flux-system/task-tool app/overlays/prod -> main"}},
		{name: "a GitRepository without ref follows the config branch, not master", sources: []fluxconfig.GitRepository{{Ref: ref("task-tool"), URL: configURL}}, branch: "main",
			autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.CheckoutBranch, a.PushBranch = "", "" })},
			want:  []string{"flux-system/task-tool app/overlays/prod -> main"}},
		{name: "a GitRepository without ref, config branch trunk", sources: []fluxconfig.GitRepository{{Ref: ref("task-tool"), URL: configURL}}, branch: "trunk",
			autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.CheckoutBranch, a.PushBranch = "", "" })},
			want:  []string{"flux-system/task-tool app/overlays/prod -> trunk"}},
		{name: "a GitRepository on a tag has no branch to commit to", sources: []fluxconfig.GitRepository{{Ref: ref("task-tool"), URL: configURL, Tag: "v1"}},
			autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.CheckoutBranch, a.PushBranch = "", "" })}},
		{name: "another branch", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.CheckoutBranch = "staging" })}},
		{name: "another repository", url: "https://github.com/mamezou-tech/k8s-tutorial", autos: []fluxconfig.ImageUpdateAutomation{auto(nil)}},
		{name: "suspended", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.Suspend = true })}},
		{name: "missing GitRepository", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.SourceRef.Name = "nope" })}},
		{name: "root path", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.UpdatePath = "." })},
			want: []string{"flux-system/task-tool . -> main"}},
		{name: "leading slash is the repository root", autos: []fluxconfig.ImageUpdateAutomation{auto(func(a *fluxconfig.ImageUpdateAutomation) { a.UpdatePath = "/app/../app/" })},
			want: []string{"flux-system/task-tool app -> main"}},
		{
			name: "SSH signingKey, push.refspec and push.options are refused, never ignored",
			autos: []fluxconfig.ImageUpdateAutomation{
				auto(func(a *fluxconfig.ImageUpdateAutomation) {
					a.Name, a.SigningKey = "signed", &fluxconfig.SigningKey{SecretRef: "ssh-key", Type: "ssh"}
				}),
				auto(func(a *fluxconfig.ImageUpdateAutomation) {
					a.Name, a.PushRefspec = "refspec", "refs/heads/main:refs/heads/copy"
				}),
				auto(func(a *fluxconfig.ImageUpdateAutomation) {
					a.Name, a.PushOptions = "options", map[string]string{"ci.skip": ""}
				}),
			},
			wantErr: "ImageUpdateAutomation flux-system/signed: spec.git.commit.signingKey type ssh (secret ssh-key) is not supported by Sluice yet (OpenPGP, type gpg, is); the automation is stopped rather than commit unsigned",
		},
		{
			name: "a path out of the repository is an error; the others still run",
			autos: []fluxconfig.ImageUpdateAutomation{
				auto(func(a *fluxconfig.ImageUpdateAutomation) { a.Name, a.UpdatePath = "escape", "./app/../../etc" }),
				auto(nil),
			},
			want:    []string{"flux-system/task-tool app/overlays/prod -> main"},
			wantErr: `ImageUpdateAutomation flux-system/escape: spec.update.path "./app/../../etc" is outside the repository`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sources := tt.sources
			if sources == nil {
				sources = []fluxconfig.GitRepository{source}
			}
			url, branch := tt.url, tt.branch
			if url == "" {
				url = configURL
			}
			if branch == "" {
				branch = "main"
			}
			got, err := Automations(context.Background(), &fluxconfig.Config{GitRepositories: sources, ImageUpdateAutomations: tt.autos}, url, branch)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.Ref.String()+" "+a.Path+" -> "+a.PushBranch)
			}
			if diff := cmp.Diff(tt.want, names); diff != "" {
				t.Errorf("automations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAutomationSelects(t *testing.T) {
	policy := func(ns string, labels map[string]string) fluxconfig.ImagePolicy {
		return fluxconfig.ImagePolicy{Ref: fluxconfig.Ref{Namespace: ns, Name: "p"}, Labels: labels}
	}
	tests := []struct {
		name     string
		selector *metav1.LabelSelector
		policy   fluxconfig.ImagePolicy
		want     bool
	}{
		{name: "no selector: every policy of its namespace", policy: policy("flux-system", nil), want: true},
		{name: "never another namespace's", policy: policy("apps", nil)},
		{name: "matchLabels", selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, policy: policy("flux-system", map[string]string{"team": "a"}), want: true},
		{name: "matchLabels, other value", selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}, policy: policy("flux-system", map[string]string{"team": "b"})},
		{name: "matchExpressions", selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}},
			policy: policy("flux-system", map[string]string{"team": "b"}), want: true},
		{name: "selector matches, namespace does not", selector: &metav1.LabelSelector{}, policy: policy("apps", map[string]string{"team": "a"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Automation{ImageUpdateAutomation: fluxconfig.ImageUpdateAutomation{Ref: ref("auto"), PolicySelector: tt.selector}}
			if got := a.Selects(tt.policy); got != tt.want {
				t.Errorf("Selects = %v, want %v", got, tt.want)
			}
		})
	}
}
