package templatetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// The simulated stack's pseudo parameters. The stack name is the one the
// sample events' queue names (sluice-reconcile.fifo) and sender ids assume.
const (
	stackName = "sluice"
	region    = "ap-northeast-1"
	account   = "111122223333"
	partition = "aws"
)

var repoRoot = filepath.Join("..", "..")

// noValue is what AWS::NoValue evaluates to: the key or list element holding
// it disappears, as CloudFormation removes it.
type noValue struct{}

// namingProperty is the property that names a resource of each type; without
// it CloudFormation generates a name from the stack and logical id.
var namingProperty = map[string]string{
	"AWS::SQS::Queue":             "QueueName",
	"AWS::SecretsManager::Secret": "Name",
	"AWS::Logs::LogGroup":         "LogGroupName",
	"AWS::IAM::Role":              "RoleName",
	"AWS::SNS::Topic":             "TopicName",
	"AWS::Events::Rule":           "Name",
	"AWS::Serverless::Function":   "FunctionName",
}

// stack evaluates a SAM template as CloudFormation would deploy it with given
// parameter values: conditions, intrinsic functions, and the physical names,
// URLs and ARNs of its resources in a fixed account and region. A reference to
// a resource that does not exist, or that a false condition leaves out, is an
// error, and so is an intrinsic function it does not know.
type stack struct {
	params    map[string]any // string, float64 (Number) or []any (CommaDelimitedList)
	conds     map[string]any
	condVals  map[string]bool
	inEval    map[string]bool
	resources map[string]map[string]any
	raw       map[string]any
}

// readTemplate returns template.yaml as JSON values with long-form intrinsic
// functions, and SAM's Globals merged into each function, as SAM's translator
// does before CloudFormation resolves anything.
func readTemplate(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	if err := mergeGlobals(raw); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return raw
}

// mergeGlobals applies Globals.Function to every AWS::Serverless::Function
// and removes Globals (goformation does not merge them).
func mergeGlobals(raw map[string]any) error {
	globals, _ := raw["Globals"].(map[string]any)
	delete(raw, "Globals")
	for section := range globals {
		if section != "Function" {
			return fmt.Errorf("Globals.%s: only Globals.Function is handled here", section)
		}
	}
	fnGlobals, _ := globals["Function"].(map[string]any)
	resources, _ := raw["Resources"].(map[string]any)
	for id, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		merged, ok := samMerge(fnGlobals, props).(map[string]any)
		if !ok {
			return fmt.Errorf("%s: Properties are not a map", id)
		}
		res["Properties"] = merged
	}
	return nil
}

// samMerge merges a global value with a function's own as SAM does: maps key
// by key, lists concatenated (globals first), anything else (intrinsic
// functions included) the function's value.
func samMerge(global, local any) any {
	gm, gIsMap := global.(map[string]any)
	lm, lIsMap := local.(map[string]any)
	if gIsMap && lIsMap && !isIntrinsic(gm) && !isIntrinsic(lm) {
		out := maps.Clone(gm)
		for k, v := range lm {
			if gv, ok := out[k]; ok {
				out[k] = samMerge(gv, v)
			} else {
				out[k] = v
			}
		}
		return out
	}
	gl, gIsList := global.([]any)
	ll, lIsList := local.([]any)
	if gIsList && lIsList {
		return append(slices.Clone(gl), ll...)
	}
	return local
}

func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// newStack checks the parameter values (overrides on top of the defaults)
// against the template's constraints, as CloudFormation does before it
// creates anything.
func newStack(raw map[string]any, overrides map[string]string) (*stack, error) {
	s := &stack{
		params:    map[string]any{},
		condVals:  map[string]bool{},
		inEval:    map[string]bool{},
		resources: map[string]map[string]any{},
		raw:       raw,
	}
	s.conds, _ = raw["Conditions"].(map[string]any)
	for id, r := range raw["Resources"].(map[string]any) {
		s.resources[id] = r.(map[string]any)
	}
	params, _ := raw["Parameters"].(map[string]any)
	for name := range overrides {
		if _, ok := params[name]; !ok {
			return nil, fmt.Errorf("parameter %s is not in the template", name)
		}
	}
	var errs []error
	for name, p := range params {
		v, err := parameterValue(name, p.(map[string]any), overrides)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.params[name] = v
	}
	return s, errors.Join(errs...)
}

func parameterValue(name string, p map[string]any, overrides map[string]string) (any, error) {
	v, ok := overrides[name]
	if !ok {
		def, hasDefault := p["Default"]
		if !hasDefault {
			return nil, fmt.Errorf("parameter %s has no default and no value", name)
		}
		v = fmt.Sprint(def)
	}
	if allowed, ok := p["AllowedValues"].([]any); ok {
		if !slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == v }) {
			return nil, fmt.Errorf("parameter %s=%q is not one of %v", name, v, allowed)
		}
	}
	switch p["Type"] {
	case "String":
		if pat, ok := p["AllowedPattern"].(string); ok {
			// CloudFormation matches the whole value.
			if !regexp.MustCompile("^(?:" + pat + ")$").MatchString(v) {
				return nil, fmt.Errorf("parameter %s=%q does not match %s", name, v, pat)
			}
		}
		if max, ok := p["MaxLength"].(float64); ok && len(v) > int(max) {
			return nil, fmt.Errorf("parameter %s is longer than %v", name, max)
		}
		if min, ok := p["MinLength"].(float64); ok && len(v) < int(min) {
			return nil, fmt.Errorf("parameter %s is shorter than %v", name, min)
		}
		return v, nil
	case "Number":
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("parameter %s=%q is not a number", name, v)
		}
		if min, ok := p["MinValue"].(float64); ok && n < min {
			return nil, fmt.Errorf("parameter %s=%v is below %v", name, n, min)
		}
		return n, nil
	case "CommaDelimitedList":
		var list []any
		for _, e := range strings.Split(v, ",") {
			list = append(list, e)
		}
		return list, nil
	}
	return nil, fmt.Errorf("parameter %s: type %v is not handled here", name, p["Type"])
}

// brokenRules returns the AssertDescription of every rule assertion the
// parameter values break: CloudFormation refuses to deploy them.
func (s *stack) brokenRules() ([]string, error) {
	rules, _ := s.raw["Rules"].(map[string]any)
	var broken []string
	for _, name := range slices.Sorted(maps.Keys(rules)) {
		rule := rules[name].(map[string]any)
		if fn := notRuleFunction(rule); fn != "" {
			return nil, fmt.Errorf("rule %s uses %s: rules take rule functions only", name, fn)
		}
		if cond, ok := rule["RuleCondition"]; ok {
			applies, err := s.evalBool(cond)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", name, err)
			}
			if !applies {
				continue
			}
		}
		for _, a := range rule["Assertions"].([]any) {
			a := a.(map[string]any)
			ok, err := s.evalBool(a["Assert"])
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", name, err)
			}
			if !ok {
				broken = append(broken, fmt.Sprint(a["AssertDescription"]))
			}
		}
	}
	return broken, nil
}

// ruleFunctions are the intrinsic functions CloudFormation allows in Rules.
var ruleFunctions = []string{"Ref", "Fn::And", "Fn::Contains", "Fn::EachMemberEquals", "Fn::EachMemberIn",
	"Fn::Equals", "Fn::If", "Fn::Not", "Fn::Or", "Fn::RefAll", "Fn::ValueOf", "Fn::ValueOfAll"}

// notRuleFunction returns an intrinsic function in v that Rules do not allow.
func notRuleFunction(v any) string {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if (k == "Ref" || strings.HasPrefix(k, "Fn::")) && !slices.Contains(ruleFunctions, k) {
				return k
			}
			if fn := notRuleFunction(e); fn != "" {
				return fn
			}
		}
	case []any:
		for _, e := range v {
			if fn := notRuleFunction(e); fn != "" {
				return fn
			}
		}
	}
	return ""
}

func (s *stack) evalBool(v any) (bool, error) {
	r, err := s.eval(v)
	if err != nil {
		return false, err
	}
	b, ok := r.(bool)
	if !ok {
		return false, fmt.Errorf("%v is not a boolean", r)
	}
	return b, nil
}

func (s *stack) condition(name string) (bool, error) {
	if v, ok := s.condVals[name]; ok {
		return v, nil
	}
	expr, ok := s.conds[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not defined", name)
	}
	if s.inEval[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	s.inEval[name] = true
	defer delete(s.inEval, name)
	v, err := s.evalBool(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	s.condVals[name] = v
	return v, nil
}

// created reports whether the resource id exists and its condition holds.
func (s *stack) created(id string) (bool, error) {
	r, ok := s.resources[id]
	if !ok {
		return false, fmt.Errorf("no resource %s", id)
	}
	cond, ok := r["Condition"].(string)
	if !ok {
		return true, nil
	}
	return s.condition(cond)
}

// eval resolves every intrinsic function in v.
func (s *stack) eval(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if isIntrinsic(v) {
			for fn, arg := range v {
				out, err := s.intrinsic(fn, arg)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", fn, err)
				}
				return out, nil
			}
		}
		out := map[string]any{}
		for k, e := range v {
			r, err := s.eval(e)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := []any{}
		for i, e := range v {
			r, err := s.eval(e)
			if err != nil {
				return nil, fmt.Errorf("[%d].%w", i, err)
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

func (s *stack) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("%v is not a name", arg)
		}
		return s.ref(name)
	case "Fn::GetAtt":
		var res, attr string
		switch a := arg.(type) {
		case string:
			res, attr, _ = strings.Cut(a, ".")
		case []any:
			if len(a) == 2 {
				res, _ = a[0].(string)
				attr, _ = a[1].(string)
			}
		}
		return s.attribute(res, attr)
	case "Fn::Sub":
		return s.sub(arg)
	case "Condition":
		name, _ := arg.(string)
		return s.condition(name)
	case "Fn::If":
		a, ok := arg.([]any)
		if !ok || len(a) != 3 {
			return nil, fmt.Errorf("wants [condition, then, else]")
		}
		name, _ := a[0].(string)
		c, err := s.condition(name)
		if err != nil {
			return nil, err
		}
		if c {
			return s.eval(a[1])
		}
		return s.eval(a[2])
	}
	args, err := s.eval(arg)
	if err != nil {
		return nil, err
	}
	list, ok := args.([]any)
	if !ok {
		return nil, fmt.Errorf("wants a list, not %v", args)
	}
	return apply(fn, list)
}

// apply runs the intrinsic functions that only transform their evaluated arguments.
func apply(fn string, a []any) (any, error) {
	switch fn {
	case "Fn::Equals":
		if len(a) != 2 {
			return nil, errors.New("wants two values")
		}
		return fmt.Sprint(a[0]) == fmt.Sprint(a[1]), nil
	case "Fn::Not", "Fn::And", "Fn::Or":
		var bs []bool
		for _, e := range a {
			b, ok := e.(bool)
			if !ok {
				return nil, fmt.Errorf("%v is not a boolean", e)
			}
			bs = append(bs, b)
		}
		switch fn {
		case "Fn::Not":
			if len(bs) != 1 {
				return nil, errors.New("wants one condition")
			}
			return !bs[0], nil
		case "Fn::And":
			return !slices.Contains(bs, false), nil
		}
		return slices.Contains(bs, true), nil
	case "Fn::EachMemberEquals": // a rule function
		if len(a) != 2 {
			return nil, errors.New("wants [list, string]")
		}
		list, ok := a[0].([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a list", a[0])
		}
		return !slices.ContainsFunc(list, func(e any) bool { return fmt.Sprint(e) != fmt.Sprint(a[1]) }), nil
	case "Fn::Join":
		if len(a) != 2 {
			return nil, errors.New("wants [delimiter, list]")
		}
		parts, ok := a[1].([]any)
		if !ok {
			return nil, fmt.Errorf("%v is not a list", a[1])
		}
		var ss []string
		for _, p := range parts {
			ss = append(ss, fmt.Sprint(p))
		}
		return strings.Join(ss, fmt.Sprint(a[0])), nil
	case "Fn::Split":
		if len(a) != 2 {
			return nil, errors.New("wants [delimiter, string]")
		}
		var out []any
		for _, p := range strings.Split(fmt.Sprint(a[1]), fmt.Sprint(a[0])) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::Select":
		if len(a) != 2 {
			return nil, errors.New("wants [index, list]")
		}
		i, err := strconv.Atoi(fmt.Sprint(a[0]))
		list, ok := a[1].([]any)
		if err != nil || !ok || i < 0 || i >= len(list) {
			return nil, fmt.Errorf("index %v out of %v", a[0], a[1])
		}
		return list[i], nil
	}
	return nil, errors.New("intrinsic function not handled here")
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (s *stack) sub(arg any) (any, error) {
	tmpl, vars := "", map[string]any{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, errors.New("wants [template, variables]")
		}
		tmpl, _ = a[0].(string)
		ev, err := s.eval(a[1])
		if err != nil {
			return nil, err
		}
		vars, _ = ev.(map[string]any)
	}
	var errs []error
	out := subVar.ReplaceAllStringFunc(tmpl, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		if v, ok := vars[name]; ok {
			return fmt.Sprint(v)
		}
		var v any
		var err error
		if res, attr, ok := strings.Cut(name, "."); ok {
			v, err = s.attribute(res, attr)
		} else {
			v, err = s.ref(name)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return fmt.Sprint(v)
	})
	return out, errors.Join(errs...)
}

func (s *stack) ref(name string) (any, error) {
	switch name {
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::StackName":
		return stackName, nil
	case "AWS::Region":
		return region, nil
	case "AWS::AccountId":
		return account, nil
	case "AWS::Partition":
		return partition, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := s.params[name]; ok {
		return v, nil
	}
	return s.attribute(name, "Ref")
}

// name is the physical name of resource id: its naming property, or one
// CloudFormation generates.
func (s *stack) name(id string) (string, error) {
	r := s.resources[id]
	if prop, ok := namingProperty[fmt.Sprint(r["Type"])]; ok {
		props, _ := r["Properties"].(map[string]any)
		if v, ok := props[prop]; ok {
			n, err := s.eval(v)
			if err != nil {
				return "", fmt.Errorf("%s.%s: %w", id, prop, err)
			}
			return fmt.Sprint(n), nil
		}
	}
	return stackName + "-" + id + "-1A2B3C4D5E6F", nil
}

// attribute is what Ref (attr "Ref") or Fn::GetAtt returns for a resource.
func (s *stack) attribute(id, attr string) (string, error) {
	if _, ok := s.resources[id]; !ok {
		// SAM adds <Function>Url for a function with a FunctionUrlConfig.
		if fn, ok := strings.CutSuffix(id, "Url"); ok && s.hasFunctionURL(fn) && attr == "FunctionUrl" {
			return "https://" + strings.ToLower(fn) + "0a1b2c3d4e5f.lambda-url." + region + ".on.aws/", nil
		}
		return "", fmt.Errorf("no resource %s", id)
	}
	ok, err := s.created(id)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", fmt.Errorf("%s is referred to, but its condition leaves it out", id)
	}
	name, err := s.name(id)
	if err != nil {
		return "", err
	}
	arn := func(service, resource string) string {
		return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource
	}
	typ := fmt.Sprint(s.resources[id]["Type"])
	switch typ + "." + attr {
	case "AWS::SQS::Queue.Ref", "AWS::SQS::Queue.QueueUrl":
		return "https://sqs." + region + ".amazonaws.com/" + account + "/" + name, nil
	case "AWS::SQS::Queue.Arn":
		return arn("sqs", name), nil
	case "AWS::SQS::Queue.QueueName", "AWS::Logs::LogGroup.Ref", "AWS::IAM::Role.Ref",
		"AWS::Events::Rule.Ref", "AWS::Serverless::Function.Ref", "AWS::SNS::Topic.TopicName":
		return name, nil
	case "AWS::SecretsManager::Secret.Ref", "AWS::SecretsManager::Secret.Id":
		return arn("secretsmanager", "secret:"+name+"-AbCdEf"), nil
	case "AWS::Logs::LogGroup.Arn":
		return arn("logs", "log-group:"+name+":*"), nil
	case "AWS::IAM::Role.Arn":
		return "arn:" + partition + ":iam::" + account + ":role/" + name, nil
	case "AWS::SNS::Topic.Ref", "AWS::SNS::Topic.TopicArn":
		return arn("sns", name), nil
	case "AWS::Events::Rule.Arn":
		return arn("events", "rule/"+name), nil
	case "AWS::Serverless::Function.Arn":
		return arn("lambda", "function:"+name), nil
	}
	if attr == "Ref" {
		return name, nil
	}
	return "", fmt.Errorf("%s (%s) has no attribute %s here", id, typ, attr)
}

func (s *stack) hasFunctionURL(fn string) bool {
	r, ok := s.resources[fn]
	if !ok || r["Type"] != "AWS::Serverless::Function" {
		return false
	}
	props, _ := r["Properties"].(map[string]any)
	_, ok = props["FunctionUrlConfig"]
	return ok
}
