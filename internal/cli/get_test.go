package cli

import (
	"context"
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
)

// recordKustomizations records, with the kube API as reconcile does, one
// Kustomization of each kind of row `get kustomizations` shows.
func recordKustomizations(t *testing.T, repo configrepo.Repository) {
	t.Helper()
	ctx := context.Background()
	m := manager(t)
	apps, infra, web := owner(repo, "flux-system", "apps"), owner(repo, "flux-system", "infra"), owner(repo, "team", "web")
	must(t, m.RecordAttempt(ctx, apps, attempt(revA, metav1.ConditionTrue, kube.ReasonSucceeded, "Applied revision: main@sha1:"+revA)))
	must(t, m.RecordApplied(ctx, apps, revA, at))
	// A failing revision: the last applied one stays, the culprit is shown.
	must(t, m.RecordApplied(ctx, infra, revA, at))
	must(t, m.RecordAttempt(ctx, infra, attempt(revB, metav1.ConditionFalse, kube.ReasonBuildFailed, `kustomize build failed: accumulating resources: "missing.yaml" not found`)))
	must(t, m.RecordAttempt(ctx, web, attempt(revA, metav1.ConditionTrue, kube.ReasonSucceeded, "Applied revision: main@sha1:"+revA)))
	must(t, m.RecordApplied(ctx, web, revA, at))
	must(t, m.SetSuspended(ctx, web, true, "someone"))
	// Applied before statuses were recorded, and suspended in Git.
	must(t, m.SaveInventory(ctx, kube.Inventory{Owner: owner(repo, "flux-system", "legacy"), Revision: revA, Suspended: true, Prune: true}))
	// Another installation's status of the same name is not this one's.
	other := configrepo.Repository{URL: repo.URL + "-other", Branch: "main", ConfigPath: "clusters/prod"}
	must(t, m.RecordAttempt(ctx, owner(other, "flux-system", "apps"), attempt(revB, metav1.ConditionFalse, kube.ReasonFailed, "other installation")))
}

func TestGetKustomizations(t *testing.T) {
	vars, repo := installation(t, "https://github.com/o/get-ks")
	recordKustomizations(t, repo)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"namespace", []string{"get", "kustomizations"}, `` +
			`NAME     REVISION                                             SUSPENDED   READY     MESSAGE
apps     main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   False       True      Applied revision: main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
infra    main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   False       False     kustomize build failed: accumulating resources: "missing.yaml" not found
legacy   main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   True        Unknown   no reconcile recorded yet
`},
		{"all namespaces", []string{"get", "ks", "-A"}, `` +
			`NAMESPACE     NAME     REVISION                                             SUSPENDED   READY     MESSAGE
flux-system   apps     main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   False       True      Applied revision: main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
flux-system   infra    main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   False       False     kustomize build failed: accumulating resources: "missing.yaml" not found
flux-system   legacy   main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   True        Unknown   no reconcile recorded yet
team          web      main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   True        True      Applied revision: main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
`},
		{"other namespace, by name", []string{"get", "kustomization", "web", "-n", "team"}, `` +
			`NAME   REVISION                                             SUSPENDED   READY   MESSAGE
web    main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa   True        True    Applied revision: main@sha1:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := run(t, vars, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			wantOutput(t, "table", tt.want, out)
		})
	}
}

func TestGetKustomizationsJSON(t *testing.T) {
	vars, repo := installation(t, "https://github.com/o/get-ks-json")
	recordKustomizations(t, repo)
	out, stderr, code := run(t, vars, "get", "ks", "infra", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got []kustomizationItem
	must(t, json.Unmarshal([]byte(out), &got))
	want := []kustomizationItem{{
		Namespace: "flux-system", Name: "infra", Revision: "main@sha1:" + revA, Ready: "False", Reason: kube.ReasonBuildFailed,
		Message:               `kustomize build failed: accumulating resources: "missing.yaml" not found`,
		LastAttemptedRevision: "main@sha1:" + revB, LastAttemptedAt: "2026-03-01T10:00:00Z", LastAttemptDuration: "1.5s",
	}}
	wantJSON(t, want, got)
}

func TestGetKustomizationsNoneOrUnknown(t *testing.T) {
	vars, _ := installation(t, "https://github.com/o/get-ks-none")
	out, stderr, code := run(t, vars, "get", "ks")
	if code != exitOK || out != "" || stderr != "✗ no Kustomization objects found in flux-system namespace\n" {
		t.Errorf("no Kustomizations: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if _, stderr, code := run(t, vars, "get", "ks", "nope"); code != exitFail {
		t.Errorf("unknown name: exit %d (stderr %q), want %d", code, stderr, exitFail)
	}
	delete(vars, "SLUICE_GIT_URL")
	if _, stderr, code := run(t, vars, "get", "ks"); code != exitFail {
		t.Errorf("no installation: exit %d (stderr %q), want %d", code, stderr, exitFail)
	}
}
