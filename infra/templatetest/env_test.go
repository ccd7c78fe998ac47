package templatetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/drift"
	"github.com/sluice-gitops/sluice/internal/envconfig"
	"github.com/sluice-gitops/sluice/internal/imageupdate"
	"github.com/sluice-gitops/sluice/internal/reconcile"
	"github.com/sluice-gitops/sluice/internal/webhook"
)

// loaders are the functions' own configuration loaders, as each main calls it.
var loaders = map[string]func(context.Context, *envconfig.Env) error{
	"WebhookFunction": func(ctx context.Context, e *envconfig.Env) error {
		_, err := webhook.LoadConfig(ctx, e)
		return err
	},
	"ReconcileFunction": func(ctx context.Context, e *envconfig.Env) error {
		_, err := reconcile.LoadConfig(ctx, e)
		return err
	},
	"ImageUpdateFunction": func(ctx context.Context, e *envconfig.Env) error {
		_, err := imageupdate.LoadConfig(ctx, e)
		return err
	},
	"DriftFunction": func(ctx context.Context, e *envconfig.Env) error {
		_, err := drift.LoadConfig(ctx, e)
		return err
	},
}

// secretStore answers for the secrets the template creates, and records the
// ids asked for; any other id is not found, as in Secrets Manager.
type secretStore struct {
	values map[string]string
	asked  []string
}

func (s *secretStore) GetSecret(_ context.Context, id string) (string, error) {
	s.asked = append(s.asked, id)
	v, ok := s.values[id]
	if !ok {
		return "", fmt.Errorf("secret %q not found", id)
	}
	return v, nil
}

// functionEnv returns the environment Lambda gives a function: its resolved
// Environment.Variables, Globals merged.
func functionEnv(t *testing.T, d *deployment, fn string) map[string]string {
	t.Helper()
	e := d.tpl.GetAllServerlessFunctionResources()[fn].Environment
	if e == nil {
		return map[string]string{}
	}
	return e.Variables
}

// load runs a function's LoadConfig on exactly env (nothing from the test's
// own environment), recording the variables it reads.
func load(fn string, env map[string]string, store *secretStore) (read map[string]bool, err error) {
	read = map[string]bool{}
	lookup := func(name string) (string, bool) {
		read[name] = true
		v, ok := env[name]
		return v, ok
	}
	return read, loaders[fn](context.Background(), envconfig.New(lookup, store))
}

func templateSecrets(t *testing.T, d *deployment) *secretStore {
	store := &secretStore{values: map[string]string{}}
	for id := range d.tpl.GetAllSecretsManagerSecretResources() {
		store.values[d.must(t, id, "Ref")] = "stored value of " + id
	}
	return store
}

// TestEnvironmentSatisfiesConfig runs each function's LoadConfig with nothing
// but the variables the template sets, and its secrets as the template
// creates them: a required variable the template forgets, a value the loader
// refuses, or a secret id that names no secret of the template fails it. It
// also checks that every variable set is one the function reads (no typos),
// with the value it must have, and that every secret read is one the
// function's role may read.
func TestEnvironmentSatisfiesConfig(t *testing.T) {
	forEachScenario(t, func(t *testing.T, d *deployment) {
		for fn := range d.tpl.GetAllServerlessFunctionResources() {
			t.Run(fn, func(t *testing.T) {
				if loaders[fn] == nil {
					t.Fatalf("no LoadConfig known for %s", fn)
				}
				env := functionEnv(t, d, fn)
				store := templateSecrets(t, d)
				read, err := load(fn, env, store)
				if err != nil {
					t.Fatalf("LoadConfig with the template's environment %v: %v", env, err)
				}
				for name := range env {
					if !read[name] {
						t.Errorf("%s is set but %s's LoadConfig never reads it", name, fn)
					}
				}
				want := expectedEnv(t, d, fn)
				if diff := cmp.Diff(want, env); diff != "" {
					t.Errorf("environment (-want +got):\n%s", diff)
				}
				mayRead := map[string]bool{}
				for _, g := range functionGrants(t, d, fn) {
					// The secrets Flux objects name (sluice/<ns>/<name>) are
					// read when an object asks, not by LoadConfig.
					if g.Action == "secretsmanager:GetSecretValue" && !strings.HasSuffix(g.Resource, ":secret:sluice/*") {
						mayRead[g.Resource] = true
					}
				}
				asked := map[string]bool{}
				for _, id := range store.asked {
					asked[id] = true
				}
				if diff := cmp.Diff(mayRead, asked); diff != "" {
					t.Errorf("secrets its role may read (-) and it reads (+):\n%s", diff)
				}
			})
		}
	})
}

// expectedEnv is the environment each function must get in d: every
// variable the template sets must be in it.
func expectedEnv(t *testing.T, d *deployment, fn string) map[string]string {
	t.Helper()
	common := map[string]string{
		"SLUICE_GIT_URL":    d.param("GitUrl"),
		"SLUICE_GIT_BRANCH": d.param("GitBranch"),
	}
	if fn == "WebhookFunction" {
		return with(common, map[string]string{
			"SLUICE_WEBHOOK_SECRET_ID":   d.must(t, "WebhookSecret", "Ref"),
			"SLUICE_RECONCILE_QUEUE_URL": d.must(t, "ReconcileQueue", "Ref"),
		})
	}
	env := with(common, map[string]string{"SLUICE_CONFIG_PATH": d.param("ConfigPath")})
	if d.param("GitAuth") == "ssh-key" {
		env["SLUICE_GIT_SSH_KEY_SECRET_ID"] = d.must(t, "GitCredentialSecret", "Ref")
		env["SLUICE_GIT_KNOWN_HOSTS"] = d.param("GitKnownHosts")
	} else {
		env["SLUICE_GIT_TOKEN_SECRET_ID"] = d.must(t, "GitCredentialSecret", "Ref")
	}
	if fn == "ImageUpdateFunction" {
		return env
	}
	env["SLUICE_CLUSTER_NAME"] = d.param("ClusterName")
	// Reconcile retries a failed message early on it; drift queues there.
	env["SLUICE_RECONCILE_QUEUE_URL"] = d.must(t, "ReconcileQueue", "Ref")
	if fn == "ReconcileFunction" {
		return env
	}
	env["SLUICE_DRIFT_MODE"] = d.param("DriftMode")
	env["SLUICE_IMAGE_QUEUE_URL"] = d.must(t, "ImageQueue", "Ref")
	if topic := d.param("DriftTopicArn"); topic != "" {
		env["SLUICE_SNS_TOPIC_ARN"] = topic
	}
	return env
}

// TestLoadersNameMissingVariables proves the check above can fail: without
// each variable it needs, a function's LoadConfig fails naming it. The
// required set is derived by removing one template variable at a time.
func TestLoadersNameMissingVariables(t *testing.T) {
	d := deploy(t, scenarios[0].params)
	for fn := range d.tpl.GetAllServerlessFunctionResources() {
		t.Run(fn, func(t *testing.T) {
			env := functionEnv(t, d, fn)
			var needed []string
			for _, name := range slices.Sorted(maps.Keys(env)) {
				less := maps.Clone(env)
				delete(less, name)
				_, err := load(fn, less, templateSecrets(t, d))
				if err == nil {
					continue
				}
				needed = append(needed, name)
				if !strings.Contains(err.Error(), strings.TrimSuffix(name, "_ID")) {
					t.Errorf("without %s: %v does not name it", name, err)
				}
			}
			if len(needed) == 0 {
				t.Errorf("%s's LoadConfig accepts an environment missing any one variable: nothing to check", fn)
			}
			t.Logf("%s needs %v", fn, needed)
		})
	}
}
