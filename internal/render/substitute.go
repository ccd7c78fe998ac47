package render

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/fluxcd/pkg/envsubst"
	"sigs.k8s.io/yaml"
)

const (
	// substituteKey is the label or annotation by which an object opts out of
	// variable substitution, with the value substituteDisabled.
	substituteKey      = "kustomize.toolkit.fluxcd.io/substitute"
	substituteDisabled = "disabled"
)

// varName is the variable names Flux accepts in postBuild.substitute.
var varName = regexp.MustCompile(`^[_[:alpha:]][_[:alpha:][:digit:]]*$`)

// substitutionVars checks the names in substitute and returns the variables
// as Flux uses them: newlines are removed from values, since a value is
// spliced into one line of YAML.
func substitutionVars(substitute map[string]string) (map[string]string, error) {
	vars := make(map[string]string, len(substitute))
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(substitute)) {
		if !varName.MatchString(name) {
			errs = append(errs, fmt.Errorf("substitute variable name %q is invalid, it must match %s", name, varName))
			continue
		}
		vars[name] = strings.ReplaceAll(substitute[name], "\n", "")
	}
	return vars, errors.Join(errs...)
}

// substitute replaces ${var} and the other bash-style expressions Flux's
// envsubst knows (${var:=default}, ${var:-default}, ...) in one object's
// YAML, and returns the object as JSON. As in Flux's default (non-strict)
// mode, a variable that is not set and has no default becomes empty.
func substitute(doc []byte, vars map[string]string) ([]byte, error) {
	out, err := envsubst.Eval(string(doc), func(name string) (string, bool) {
		return vars[name], true
	})
	if err != nil {
		return nil, err
	}
	data, err := yaml.YAMLToJSON([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("the substituted object is not valid YAML: %w", err)
	}
	return data, nil
}
