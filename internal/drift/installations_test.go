package drift

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/kubetest"
	"github.com/sluice-gitops/sluice/internal/queue"
	"github.com/sluice-gitops/sluice/internal/reconcile"
)

// installation is one config repository + branch + path on the shared API
// server, whose Kustomization flux-system/flux-system (the bootstrap default,
// the same name in every installation) applies two ConfigMaps into ns.
type installation struct {
	t        *testing.T
	srv      *gittest.Server
	repoName string
	repo     desired.Repository
	git      *gitrepo.Repo
	ns       string
}

func writeInstallation(dir, url, branch, ns string) error {
	files := map[string]string{
		"clusters/c/source.yaml": fmt.Sprintf("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: flux-system, namespace: flux-system}\n"+
			"spec: {interval: 1m, url: %s, ref: {branch: %s}}\n", url, branch),
		"clusters/c/ks.yaml": fmt.Sprintf("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: flux-system, namespace: flux-system}\n"+
			"spec: {interval: 10m, path: ./app, prune: true, targetNamespace: %s, sourceRef: {kind: GitRepository, name: flux-system}}\n", ns),
		"app/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
		"app/a.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n",
		"app/b.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {k: v}\n",
	}
	var errs []error
	for name, body := range files {
		p := filepath.Join(dir, name)
		errs = append(errs, os.MkdirAll(filepath.Dir(p), 0o755), os.WriteFile(p, []byte(body), 0o644))
	}
	return errors.Join(errs...)
}

func (in *installation) reconcile(opts ...func(*reconcile.Reconciler)) *reconcile.Result {
	in.t.Helper()
	r := reconcile.New(in.repo, in.git, mustCluster(in.t), nil)
	for _, o := range opts {
		o(r)
	}
	res, err := r.Reconcile(context.Background(), queue.Reconcile{Repository: in.repo.ID(), Branch: in.repo.Branch, Reason: queue.ReasonPush})
	if err != nil {
		in.t.Fatalf("reconcile of %s: %v", in.repo.Source(), err)
	}
	return res
}

func (in *installation) drift() *Report {
	in.t.Helper()
	rep, snap, err := New(in.repo, in.git, mustCluster(in.t), Detect, nil).Check(context.Background(), "run")
	if err != nil {
		in.t.Fatal(err)
	}
	snap.Close()
	return rep
}

func (in *installation) commit(msg string, edit func(string) error) {
	in.t.Helper()
	if _, err := in.srv.Commit(in.repoName, in.repo.Branch, msg, edit); err != nil {
		in.t.Fatal(err)
	}
}

func (in *installation) inventory() *kube.Inventory {
	in.t.Helper()
	inv, err := mustCluster(in.t).Inventory(context.Background(), desired.Owner(in.repo, fluxconfig.Ref{Namespace: "flux-system", Name: "flux-system"}))
	if err != nil {
		in.t.Fatal(err)
	}
	return inv
}

func mustCluster(t *testing.T) *kube.Manager {
	t.Helper()
	m, err := kube.New(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func changed(res *reconcile.Result) map[string]kube.Action {
	out := map[string]kube.Action{}
	for _, k := range append(append([]reconcile.KustomizationResult{}, res.Kustomizations...), res.Removed...) {
		for _, c := range k.Changes {
			out[c.ID] = c.Action
		}
	}
	return out
}

// Two installations on one cluster define the same Kustomization
// (flux-system/flux-system): each applies, re-applies, prunes, removes and
// reports on only its own objects.
func TestInstallationsShareACluster(t *testing.T) {
	for _, sameRepo := range []bool{false, true} {
		name := "two repositories"
		if sameRepo {
			name = "two branches of one repository"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			suffix := "repos"
			if sameRepo {
				suffix = "branches"
			}
			srv, err := gittest.Start("x-access-token", "t0ken")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Stop)
			seed := t.TempDir()
			newInstallation := func(repoName, branch, ns string) *installation {
				url := srv.URL(repoName)
				edit := func(dir string) error { return writeInstallation(dir, url, branch, ns) }
				var err error
				if sameRepo && branch != "main" {
					if err = srv.Branch(repoName, "main", branch); err == nil {
						_, err = srv.Commit(repoName, branch, "Staging", edit)
					}
				} else {
					_, err = srv.Seed(repoName, branch, seed, edit)
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := kubetest.CreateNamespace(ctx, env.Config, ns); err != nil {
					t.Fatal(err)
				}
				git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
				if err != nil {
					t.Fatal(err)
				}
				return &installation{t: t, srv: srv, repoName: repoName, git: git, ns: ns,
					repo: desired.Repository{URL: url, Branch: branch, ConfigPath: "clusters/c"}}
			}
			a := newInstallation("a-"+suffix+".git", "main", "inst-a-"+suffix)
			b := newInstallation("b-"+suffix+".git", "main", "inst-b-"+suffix)
			if sameRepo {
				b = newInstallation("a-"+suffix+".git", "staging", "inst-b-"+suffix)
			}
			cs := kubernetes.NewForConfigOrDie(env.Config)
			exists := func(ns, name string) bool {
				_, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
				if err != nil && !apierrors.IsNotFound(err) {
					t.Fatal(err)
				}
				return err == nil
			}

			a.reconcile()
			b.reconcile()
			res := a.reconcile()
			if diff := cmp.Diff(map[string]kube.Action{"ConfigMap/" + a.ns + "/a": kube.Unchanged, "ConfigMap/" + a.ns + "/b": kube.Unchanged}, changed(res)); diff != "" {
				t.Errorf("a's re-apply (-want +got):\n%s", diff)
			}

			a.commit("Drop b", func(dir string) error {
				return os.WriteFile(filepath.Join(dir, "app/kustomization.yaml"), []byte("resources: [a.yaml]\n"), 0o644)
			})
			res = a.reconcile()
			if diff := cmp.Diff(map[string]kube.Action{"ConfigMap/" + a.ns + "/a": kube.Unchanged, "ConfigMap/" + a.ns + "/b": kube.Deleted}, changed(res)); diff != "" {
				t.Errorf("a's prune (-want +got):\n%s", diff)
			}
			res = b.reconcile()
			if diff := cmp.Diff(map[string]kube.Action{"ConfigMap/" + b.ns + "/a": kube.Unchanged, "ConfigMap/" + b.ns + "/b": kube.Unchanged}, changed(res)); diff != "" {
				t.Errorf("b's re-apply after a's prune (-want +got):\n%s", diff)
			}
			for _, c := range []struct {
				ns, name string
				want     bool
			}{{a.ns, "a", true}, {a.ns, "b", false}, {b.ns, "a", true}, {b.ns, "b", true}} {
				if got := exists(c.ns, c.name); got != c.want {
					t.Errorf("ConfigMap %s/%s exists = %v, want %v", c.ns, c.name, got, c.want)
				}
			}

			for _, in := range []*installation{a, b} {
				rep := in.drift()
				var ids []string
				for _, k := range rep.Kustomizations {
					if k.Behind || k.Error != "" {
						t.Errorf("%s drift: %s behind=%v (applied %s, head %s) error=%q", in.repo.Source(), k.Name, k.Behind, k.Revision, k.Head, k.Error)
					}
					for _, o := range k.Objects {
						ids = append(ids, o.ID+" "+string(o.Status))
					}
				}
				sort.Strings(ids)
				want := []string{"ConfigMap/" + in.ns + "/a InSync"}
				if in == b {
					want = append(want, "ConfigMap/"+b.ns+"/b InSync")
				}
				if diff := cmp.Diff(want, ids); diff != "" {
					t.Errorf("%s drift (-want +got):\n%s", in.repo.Source(), diff)
				}
			}

			// a's folder then defines no Kustomization: removing everything
			// is on purpose here.
			a.commit("Remove the Kustomization", func(dir string) error { return os.Remove(filepath.Join(dir, "clusters/c/ks.yaml")) })
			res = a.reconcile(func(r *reconcile.Reconciler) { r.AllowEmpty = true })
			if diff := cmp.Diff(map[string]kube.Action{"ConfigMap/" + a.ns + "/a": kube.Deleted}, changed(res)); diff != "" {
				t.Errorf("a's removal (-want +got):\n%s", diff)
			}
			if a.inventory() != nil {
				t.Error("a's inventory is left")
			}
			if inv := b.inventory(); inv == nil || len(inv.Entries) != 2 {
				t.Errorf("b's inventory after a's removal = %+v", inv)
			}
			if !exists(b.ns, "a") || !exists(b.ns, "b") {
				t.Error("a's removal deleted b's objects")
			}
		})
	}
}
