package templatetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// deployment is the template as deployed with some parameter values.
type deployment struct {
	*stack
	// resolved holds the created resources and the outputs, every intrinsic
	// function resolved.
	resolved map[string]map[string]any
	outputs  map[string]any
	// tpl is resolved, typed by goformation.
	tpl *cloudformation.Template
}

// deploy resolves the template for the parameter values, failing the test
// if they break a constraint or a rule, or if anything does not resolve.
func deploy(t *testing.T, overrides map[string]string) *deployment {
	t.Helper()
	d, err := tryDeploy(readTemplate(t), overrides)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func tryDeploy(raw map[string]any, overrides map[string]string) (*deployment, error) {
	s, err := newStack(raw, overrides)
	if err != nil {
		return nil, err
	}
	if broken, err := s.brokenRules(); err != nil || len(broken) > 0 {
		return nil, errors.Join(err, fmt.Errorf("rules broken: %v", broken))
	}
	d := &deployment{stack: s, resolved: map[string]map[string]any{}, outputs: map[string]any{}}
	for id, r := range s.resources {
		ok, err := s.created(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		v, err := s.eval(r)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		d.resolved[id] = v.(map[string]any)
	}
	outputs, _ := raw["Outputs"].(map[string]any)
	for name, o := range outputs {
		v, err := s.eval(o.(map[string]any)["Value"])
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", name, err)
		}
		d.outputs[name] = v
	}
	d.tpl, err = d.typed()
	return d, err
}

// samOnly lists the function properties goformation v7.14.9's SAM schema
// predates; they are checked on the resolved JSON instead.
var samOnly = []string{"LoggingConfig"}

// typed decodes the resolved resources with goformation, whose decoding of
// resource properties is strict: a misspelt property fails it.
func (d *deployment) typed() (*cloudformation.Template, error) {
	resources := map[string]any{}
	for id, r := range d.resolved {
		if r["Type"] == "AWS::Serverless::Function" {
			r = maps.Clone(r)
			props := maps.Clone(r["Properties"].(map[string]any))
			for _, p := range samOnly {
				delete(props, p)
			}
			r["Properties"] = props
		}
		resources[id] = r
	}
	js, err := json.Marshal(map[string]any{
		"AWSTemplateFormatVersion": d.raw["AWSTemplateFormatVersion"],
		"Transform":                d.raw["Transform"],
		"Resources":                resources,
	})
	if err != nil {
		return nil, err
	}
	tpl, err := goformation.ParseJSONWithOptions(js, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		return nil, fmt.Errorf("goformation: %w", err)
	}
	return tpl, nil
}

// props returns the resolved properties of resource id.
func (d *deployment) props(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := d.resolved[id]
	if !ok {
		t.Fatalf("resource %s is not created", id)
	}
	p, _ := r["Properties"].(map[string]any)
	return p
}

// must returns Ref (attr "Ref") or Fn::GetAtt of a resource, failing the test
// when there is none.
func (d *deployment) must(t *testing.T, id, attr string) string {
	t.Helper()
	v, err := d.attribute(id, attr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// param returns a parameter's value as a string.
func (d *deployment) param(name string) string {
	if l, ok := d.params[name].([]any); ok {
		var ss []string
		for _, e := range l {
			ss = append(ss, fmt.Sprint(e))
		}
		return strings.Join(ss, ",")
	}
	return fmt.Sprint(d.params[name])
}
