package commitmsg

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"

	"github.com/sluice-gitops/sluice/internal/setters"
)

// DefaultTemplate is Flux's commit message when messageTemplate is empty.
const DefaultTemplate = "Update from image update automation"

// NamespacedName names an object; it prints as namespace/name, like the
// Kubernetes type Flux puts in templates.
type NamespacedName struct {
	Namespace string
	Name      string
}

// String returns namespace/name.
func (n NamespacedName) String() string {
	return n.Namespace + "/" + n.Name
}

// TemplateData is the value a commit message template is executed on.
type TemplateData struct {
	// AutomationObject is the ImageUpdateAutomation's namespace and name.
	AutomationObject NamespacedName
	// Changed is Flux's current form: .Changed.FileChanges, .Changed.Changes,
	// .Changed.Objects, each change with .OldValue, .NewValue and .Setter.
	Changed setters.Result
	// Updated is Flux's form before v1 (removed there, kept here so that
	// templates such as {{range .Updated.Images}}{{println .}}{{end}} work).
	Updated Updated
	// Values are spec.git.commit.messageTemplateValues.
	Values map[string]string
}

// NewTemplateData builds the data for one update.
func NewTemplateData(automation NamespacedName, changed setters.Result, values map[string]string) TemplateData {
	return TemplateData{
		AutomationObject: automation,
		Changed:          changed,
		Updated:          newUpdated(changed),
		Values:           values,
	}
}

// Render executes tmpl on data, with sprig's hermetic functions as Flux offers
// them (nothing that depends on time, the environment or randomness). An
// empty tmpl renders DefaultTemplate.
func Render(tmpl string, data TemplateData) (string, error) {
	if tmpl == "" {
		tmpl = DefaultTemplate
	}
	t, err := template.New("commit message").Funcs(sprig.HermeticTxtFuncMap()).Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("parsing commit message template: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("executing commit message template: %w", err)
	}
	return b.String(), nil
}
