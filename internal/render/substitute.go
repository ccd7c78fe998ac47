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

// substitutionVars merges the variables of opts as Flux does (each of
// SubstituteFrom in order, then Substitute over them), checks their names
// and removes newlines from values, since a value is spliced into one line
// of YAML.
func substitutionVars(opts Options) (map[string]string, error) {
	vars := map[string]string{}
	source := map[string]string{}
	for _, from := range append(opts.SubstituteFrom, Variables{Source: "postBuild.substitute", Values: opts.Substitute}) {
		for name, v := range from.Values {
			vars[name] = strings.ReplaceAll(v, "\n", "")
			source[name] = from.Source
		}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if !varName.MatchString(name) {
			errs = append(errs, fmt.Errorf("substitute variable name %q (from %s) is invalid, it must match %s", name, source[name], varName))
		}
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
