package commitmsg

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/setters"
)

const seedImage = "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service"

// seedResult is what setters reports for the fixture's walk-through.
func seedResult() setters.Result {
	return setters.Result{
		FileChanges: map[string]setters.ObjectChanges{"overlays/prod/kustomization.yaml": {{}: {
			{OldValue: "1.1.0", NewValue: "1.1.1", Setter: "flux-system:task-service:tag"},
		}}},
		Images: map[string]setters.Image{"flux-system/task-service": {Name: seedImage, Tag: "1.1.1"}},
	}
}

// richResult has two files, three objects and two policies.
func richResult() setters.Result {
	deploy := setters.ObjectID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "bar", Name: "web"}
	cron := setters.ObjectID{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "bar", Name: "report"}
	return setters.Result{
		FileChanges: map[string]setters.ObjectChanges{
			"deploy.yaml": {
				deploy: {
					{OldValue: "web:1.0.0", NewValue: "web:1.1.0", Setter: "flux-system:web"},
					{OldValue: "web:1.0.0", NewValue: "web:1.1.0", Setter: "flux-system:web"},
				},
				cron: {{OldValue: "1.0", NewValue: "2.0", Setter: "apps:reporter:tag"}},
			},
			"kustomization.yaml": {{}: {{OldValue: "1.0.0", NewValue: "1.1.0", Setter: "flux-system:web:tag"}}},
		},
		Images: map[string]setters.Image{
			"flux-system/web": {Name: "web", Tag: "1.1.0"},
			"apps/reporter":   {Name: "ghcr.io/acme/reporter", Tag: "2.0", Digest: "sha256:abc"},
		},
	}
}

func TestRender(t *testing.T) {
	automation := NamespacedName{Namespace: "flux-system", Name: "task-tool"}
	tests := []struct {
		name    string
		tmpl    string
		result  setters.Result
		values  map[string]string
		want    string
		wantErr string
	}{
		{name: "default", tmpl: "", result: seedResult(), want: "Update from image update automation"},
		{name: "seed template", tmpl: "{{range .Updated.Images}}{{println .}}{{end}}", result: seedResult(), want: seedImage + ":1.1.1\n"},
		{name: "automation object", tmpl: "Automation: {{ .AutomationObject }}", result: seedResult(), want: "Automation: flux-system/task-tool"},
		{
			// Flux's documented v1 template.
			name: "changed form",
			tmpl: `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
`,
			result: richResult(),
			want: `Automated image update

Automation name: flux-system/task-tool

Files:
- deploy.yaml
- kustomization.yaml
Objects:
- Deployment web
  Changes:
    - web:1.0.0 -> web:1.1.0

    - web:1.0.0 -> web:1.1.0
- CronJob report
  Changes:
    - 1.0 -> 2.0
`,
		},
		{
			name:   "changes with setters",
			tmpl:   `{{ range .Changed.Changes }}{{ .Setter }}: {{ .OldValue }} -> {{ .NewValue }}{{ "\n" }}{{ end }}`,
			result: richResult(),
			want:   "flux-system:web: web:1.0.0 -> web:1.1.0\napps:reporter:tag: 1.0 -> 2.0\nflux-system:web:tag: 1.0.0 -> 1.1.0\n",
		},
		{
			// Flux's documented pre-v1 template, with sprig's lower.
			name: "updated form",
			tmpl: `Files:
{{ range $filename, $_ := .Updated.Files -}}
- {{ $filename }}
{{ end -}}
Objects:
{{ range $resource, $_ := .Updated.Objects -}}
- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}
{{ end -}}
Images:
{{ range .Updated.Images -}}
- {{.}} ({{.Policy.Name}})
{{ end -}}`,
			result: richResult(),
			want: `Files:
- deploy.yaml
- kustomization.yaml
Objects:
- deployment web
- cronjob report
Images:
- web:1.1.0 (web)
- ghcr.io/acme/reporter:2.0@sha256:abc (reporter)
`,
		},
		{
			name:   "image ref methods",
			tmpl:   `{{ range .Updated.Images }}{{ .Registry }}|{{ .Repository }}|{{ .Identifier }}|{{ .Name }}|{{ .Policy }}{{ "\n" }}{{ end }}`,
			result: richResult(),
			want:   "index.docker.io|library/web|1.1.0|index.docker.io/library/web:1.1.0|flux-system/web\nghcr.io|acme/reporter|sha256:abc|ghcr.io/acme/reporter@sha256:abc|apps/reporter\n",
		},
		{name: "values", tmpl: `{{ .Values.env }}: {{ len .Changed.Changes }} changes`, result: seedResult(), values: map[string]string{"env": "prod"}, want: "prod: 1 changes"},
		{name: "sprig hermetic", tmpl: `{{ "Task-Service" | lower | trunc 4 }}`, result: seedResult(), want: "task"},
		{name: "no time functions", tmpl: `{{ now }}`, result: seedResult(), wantErr: `parsing commit message template: template: commit message:1: function "now" not defined`},
		{name: "bad field", tmpl: `{{ .Nope }}`, result: seedResult(), wantErr: "executing commit message template: template: commit message:1:3: executing \"commit message\" at <.Nope>: can't evaluate field Nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.tmpl, NewTemplateData(automation, tt.result, tt.values))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Render error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}
