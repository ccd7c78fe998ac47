package alerting

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Provider types Sluice delivers to. TypeSNS is Sluice's own.
const (
	TypeSlack          = "slack"
	TypeMSTeams        = "msteams"
	TypeDiscord        = "discord"
	TypeGoogleChat     = "googlechat"
	TypeGeneric        = "generic"
	TypeGenericHMAC    = "generic-hmac"
	TypeGitHub         = "github"
	TypeGitHubDispatch = "githubdispatch"
	TypePagerDuty      = "pagerduty"
	TypeOpsgenie       = "opsgenie"
	TypeAlertmanager   = "alertmanager"
	TypeSNS            = "sns"
)

// ErrUnsupportedType is the error of a Provider whose type Sluice does not
// deliver to.
var ErrUnsupportedType = errors.New("provider type not supported by Sluice")

// target is a Provider with its secrets read: everything a delivery needs.
type target struct {
	kind     string // the Provider's type
	address  string
	channel  string
	username string
	token    string
	password string
	proxy    string
	headers  map[string]string
	// uid stands in for the Provider object's uid, which Flux puts in
	// commit status contexts and Opsgenie aliases: stable per Provider.
	uid string
}

// request is one HTTP request of a delivery.
type request struct {
	url    string
	header http.Header
	body   []byte
}

// requests formats ev for t as Flux's notifier of the same type does. No
// request and no error means the type has nothing to say about ev (a
// commit status without a commit).
func requests(t target, ev Event) ([]request, error) {
	switch t.kind {
	case TypeGeneric, TypeGenericHMAC:
		return generic(t, ev)
	case TypeSlack, TypeDiscord:
		return slack(t, ev)
	case TypeMSTeams:
		return msteams(t, ev)
	case TypeGoogleChat:
		return googleChat(t, ev)
	case TypeGitHub:
		return githubStatus(t, ev)
	case TypeGitHubDispatch:
		return githubDispatch(t, ev)
	case TypePagerDuty:
		return pagerDuty(t, ev)
	case TypeOpsgenie:
		return opsgenie(t, ev)
	case TypeAlertmanager:
		return alertmanager(t, ev)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedType, t.kind)
}

func jsonRequest(u string, payload any) (request, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return request{}, fmt.Errorf("encoding the payload: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return request{url: u, header: h, body: b}, nil
}

// generic posts the event as it marshals, with the gotk-component header,
// the secret's headers and, for generic-hmac, X-Signature: "sha256=" and
// the hex HMAC-SHA256 of the body under the secret's token.
func generic(t target, ev Event) ([]request, error) {
	r, err := jsonRequest(t.address, ev)
	if err != nil {
		return nil, err
	}
	r.header.Set("gotk-component", ev.ReportingController)
	for k, v := range t.headers {
		r.header.Set(k, v)
	}
	if t.kind == TypeGenericHMAC {
		if t.token == "" {
			return nil, errors.New("generic-hmac needs a token (the HMAC key) in the secretRef")
		}
		m := hmac.New(sha256.New, []byte(t.token))
		m.Write(r.body)
		r.header.Set("X-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	return []request{r}, nil
}

type slackPayload struct {
	Channel     string            `json:"channel"`
	Username    string            `json:"username"`
	IconURL     string            `json:"icon_url"`
	IconEmoji   string            `json:"icon_emoji"`
	Text        string            `json:"text,omitempty"`
	Attachments []slackAttachment `json:"attachments,omitempty"`
}

type slackAttachment struct {
	Fallback   string       `json:"fallback"`
	Color      string       `json:"color"`
	AuthorName string       `json:"author_name"`
	Text       string       `json:"text"`
	MrkdwnIn   []string     `json:"mrkdwn_in"`
	Fields     []slackField `json:"fields"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// sortedKeys orders metadata: Flux ranges over a map, in no order; a
// fixed one is as good and makes messages comparable.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// slack formats Slack's attachment message; Discord takes the same at its
// Slack-compatible endpoint (the address with "/slack" appended), without
// the channel or the fallback text.
func slack(t target, ev Event) ([]request, error) {
	p := slackPayload{Username: t.username}
	if p.Username == "" {
		p.Username = ev.ReportingController
	}
	color := "good"
	if ev.Severity == SeverityError {
		color = "danger"
	}
	fields := make([]slackField, 0, len(ev.Metadata))
	for _, k := range sortedKeys(ev.Metadata) {
		fields = append(fields, slackField{Title: k, Value: ev.Metadata[k]})
	}
	author := objectName(ev.InvolvedObject)
	a := slackAttachment{Color: color, AuthorName: author, Text: ev.Message, MrkdwnIn: []string{"text"}, Fields: fields}
	address := t.address
	if t.kind == TypeDiscord {
		u, err := url.Parse(address)
		if err != nil {
			return nil, errors.New("the Discord address is not a URL")
		}
		if !strings.HasSuffix(address, "/slack") {
			u.Path = path.Join(u.Path, "slack")
		}
		address = u.String()
	} else {
		p.Channel = t.channel
		a.Fallback = author + ": " + strings.Split(ev.Message, "\n")[0]
	}
	p.Attachments = []slackAttachment{a}
	r, err := jsonRequest(address, p)
	if err != nil {
		return nil, err
	}
	if t.token != "" && t.kind == TypeSlack {
		r.header.Set("Authorization", "Bearer "+t.token)
	}
	return []request{r}, nil
}

// msteams sends an Adaptive Card (Teams workflows), or the legacy
// MessageCard to an Office 365 connector (*.webhook.office.com), as Flux.
func msteams(t target, ev Event) ([]request, error) {
	u, err := url.Parse(t.address)
	if err != nil {
		return nil, errors.New("the Microsoft Teams address is not a URL")
	}
	name := objectName(ev.InvolvedObject)
	if strings.HasSuffix(u.Hostname(), ".webhook.office.com") {
		facts := make([]map[string]string, 0, len(ev.Metadata))
		for _, k := range sortedKeys(ev.Metadata) {
			facts = append(facts, map[string]string{"name": k, "value": ev.Metadata[k]})
		}
		color := "0076D7"
		if ev.Severity == SeverityError {
			color = "FF0000"
		}
		r, err := jsonRequest(t.address, map[string]any{
			"@type": "MessageCard", "@context": "http://schema.org/extensions", "themeColor": color, "summary": name,
			"sections": []any{map[string]any{"activityTitle": ev.Message, "activitySubtitle": name, "facts": facts}},
		})
		return []request{r}, err
	}
	message := map[string]any{"type": "TextBlock", "text": ev.Message, "wrap": true}
	if ev.Severity == SeverityError {
		message["color"] = "attention"
	}
	// Flux puts the summary first, then the other keys in order.
	facts := []map[string]string{}
	if s, ok := ev.Metadata["summary"]; ok {
		facts = append(facts, map[string]string{"title": "summary", "value": s})
	}
	for _, k := range sortedKeys(ev.Metadata) {
		if k != "summary" {
			facts = append(facts, map[string]string{"title": k, "value": ev.Metadata[k]})
		}
	}
	factSet := map[string]any{"type": "FactSet"}
	if len(facts) > 0 {
		factSet["facts"] = facts
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
		"msteams": map[string]string{"width": "Full"},
		"body": []any{map[string]any{"type": "Container", "items": []any{
			map[string]any{"type": "TextBlock", "text": name, "size": "large", "weight": "bolder", "wrap": true},
			message, factSet,
		}}},
	}
	r, err := jsonRequest(t.address, map[string]any{"type": "message", "attachments": []any{
		map[string]any{"contentType": "application/vnd.microsoft.card.adaptive", "content": card},
	}})
	return []request{r}, err
}

type chatWidget struct {
	TextParagraph *struct {
		Text string `json:"text"`
	} `json:"textParagraph"`
	KeyValue *chatKeyValue `json:"keyValue"`
}

type chatKeyValue struct {
	TopLabel         string  `json:"topLabel"`
	Content          string  `json:"content"`
	ContentMultiLine bool    `json:"contentMultiline"`
	BottomLabel      *string `json:"bottomLabel"`
	Icon             *string `json:"icon"`
}

type chatSection struct {
	Header  string       `json:"header"`
	Widgets []chatWidget `json:"widgets"`
}

// googleChat sends Google Chat's card message (cards v1), as Flux.
func googleChat(t target, ev Event) ([]request, error) {
	text := ev.Message
	if ev.Severity == SeverityError {
		text = fmt.Sprintf("<font color=\"#ff0000\">%s</font>", ev.Message)
	}
	msg := chatWidget{TextParagraph: &struct {
		Text string `json:"text"`
	}{text}}
	sections := []chatSection{{Widgets: []chatWidget{msg}}}
	if len(ev.Metadata) > 0 {
		kv := make([]chatWidget, 0, len(ev.Metadata))
		for _, k := range sortedKeys(ev.Metadata) {
			kv = append(kv, chatWidget{KeyValue: &chatKeyValue{TopLabel: k, Content: ev.Metadata[k]}})
		}
		sections = append(sections, chatSection{Widgets: kv})
	}
	r, err := jsonRequest(t.address, map[string]any{"cards": []any{map[string]any{
		"header":   map[string]any{"title": objectName(ev.InvolvedObject), "subtitle": ev.ReportingController, "imageUrl": nil, "imageStyle": nil},
		"sections": sections,
	}}})
	return []request{r}, err
}

// githubRepo splits a repository address (https://github.com/o/r, or an
// Enterprise host) into its REST API base and "o/r".
func githubRepo(address string) (api, repo string, err error) {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return "", "", errors.New("the address is not a repository URL such as https://github.com/owner/repo")
	}
	repo = strings.TrimSuffix(strings.Trim(u.Path, "/"), ".git")
	if strings.Count(repo, "/") != 1 {
		return "", "", errors.New("the address is not a repository URL such as https://github.com/owner/repo")
	}
	scheme := u.Scheme
	if scheme == "ssh" {
		scheme = "https"
	}
	if u.Hostname() == "github.com" {
		return "https://api.github.com", repo, nil
	}
	return scheme + "://" + u.Host + "/api/v3", repo, nil
}

func githubRequest(t target, u string, payload any) (request, error) {
	r, err := jsonRequest(u, payload)
	if err != nil {
		return r, err
	}
	r.header.Set("Accept", "application/vnd.github+json")
	if t.token != "" {
		r.header.Set("Authorization", "Bearer "+t.token)
	}
	return r, nil
}

// githubStatus sets a commit status on the event's revision: success for
// info, failure for error, context "<kind>/<name>/<provider id>" and the
// reason in words, as Flux's github provider.
func githubStatus(t target, ev Event) ([]request, error) {
	sha := commitOf(ev.Metadata[MetaRevision])
	if sha == "" || ev.Reason == "Progressing" {
		return nil, nil
	}
	api, repo, err := githubRepo(t.address)
	if err != nil {
		return nil, err
	}
	state := "success"
	if ev.Severity == SeverityError {
		state = "failure"
	}
	context := strings.ToLower(ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name + "/" + strings.Split(t.uid, "-")[0])
	_, desc := nameAndDescription(ev)
	r, err := githubRequest(t, api+"/repos/"+repo+"/statuses/"+sha, map[string]string{"state": state, "context": context, "description": desc})
	return []request{r}, err
}

// githubDispatch sends a repository_dispatch whose event_type is
// "<Kind>/<name>.<namespace>" and whose client_payload is the event.
func githubDispatch(t target, ev Event) ([]request, error) {
	api, repo, err := githubRepo(t.address)
	if err != nil {
		return nil, err
	}
	o := ev.InvolvedObject
	r, err := githubRequest(t, api+"/repos/"+repo+"/dispatches", map[string]any{
		"event_type": fmt.Sprintf("%s/%s.%s", o.Kind, o.Name, o.Namespace), "client_payload": ev,
	})
	return []request{r}, err
}

// nameAndDescription are Flux's "<kind>/<name>" and the reason in lower-case
// words ("ReconciliationSucceeded" → "reconciliation succeeded").
func nameAndDescription(ev Event) (string, string) {
	name := strings.ToLower(ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name)
	return name, strings.ToLower(strings.Join(splitCamel(ev.Reason), " "))
}

// splitCamel splits at each upper-case letter that starts a lower-case run,
// and between letters and digits ("HTTPServer2" → HTTP, Server, 2).
func splitCamel(s string) []string {
	var out []string
	rs := []rune(s)
	start := 0
	class := func(r rune) int {
		switch {
		case unicode.IsLower(r):
			return 1
		case unicode.IsUpper(r):
			return 2
		case unicode.IsDigit(r):
			return 3
		}
		return 4
	}
	for i := 1; i < len(rs); i++ {
		prev, cur := class(rs[i-1]), class(rs[i])
		split := prev != cur && !(prev == 2 && cur == 1)
		if prev == 2 && cur == 2 && i+1 < len(rs) && class(rs[i+1]) == 1 {
			split = true
		}
		if split {
			out = append(out, string(rs[start:i]))
			start = i
		}
	}
	if start < len(rs) {
		out = append(out, string(rs[start:]))
	}
	return out
}

// pagerDuty sends an Events API v2 event: trigger for an error, resolve
// otherwise (keyed by the object's uid), and for info a change event too.
// The routing key is the Provider's channel, as in Flux.
func pagerDuty(t target, ev Event) ([]request, error) {
	if ev.Reason == "Progressing" {
		return nil, nil
	}
	u, err := url.Parse(t.address)
	if t.address == "" {
		u, err = url.Parse("https://events.pagerduty.com")
	}
	if err != nil || u.Host == "" {
		return nil, errors.New("the PagerDuty address is not a URL")
	}
	base := u.Scheme + "://" + u.Host
	name, desc := nameAndDescription(ev)
	details := map[string]any{"message": ev.Message, "metadata": ev.Metadata}
	v2 := map[string]any{"routing_key": t.channel, "event_action": "resolve", "dedup_key": ev.InvolvedObject.UID}
	if ev.Severity == SeverityError {
		v2["event_action"] = "trigger"
		v2["payload"] = map[string]any{
			"summary": desc + ": " + name, "source": "Flux " + ev.ReportingController, "severity": "error",
			"timestamp": ev.Timestamp.UTC().Format(time.RFC3339), "component": ev.InvolvedObject.Name,
			"group": ev.InvolvedObject.Kind, "custom_details": details,
		}
	}
	r, err := jsonRequest(base+"/v2/enqueue", v2)
	if err != nil || ev.Severity != SeverityInfo {
		return []request{r}, err
	}
	change, err := jsonRequest(base+"/v2/change/enqueue", map[string]any{"routing_key": t.channel, "payload": map[string]any{
		"summary": desc + ": " + name, "source": "Flux " + ev.ReportingController,
		"timestamp": ev.Timestamp.UTC().Format(time.RFC3339), "custom_details": details,
	}})
	return []request{r, change}, err
}

// opsgenie creates an alert whose alias is the same for the same object and
// reason, so that Opsgenie folds repeats into one alert.
func opsgenie(t target, ev Event) ([]request, error) {
	if t.token == "" {
		return nil, errors.New("opsgenie needs a token (the API key) in the secretRef")
	}
	details := map[string]string{}
	for k, v := range ev.Metadata {
		details[k] = v
	}
	details["severity"] = ev.Severity
	o := ev.InvolvedObject
	alias := sha256.Sum256([]byte(strings.Join([]string{t.uid, o.Kind, o.Namespace, o.Name, ev.Reason}, "/")))
	r, err := jsonRequest(t.address, map[string]any{
		"message": o.Kind + "/" + o.Name, "alias": hex.EncodeToString(alias[:]), "description": ev.Message, "details": details,
	})
	if err != nil {
		return nil, err
	}
	r.header.Set("Authorization", "GenieKey "+t.token)
	return []request{r}, nil
}

// alertmanager posts one firing alert: the metadata are labels, the
// message (and the summary) annotations, as Flux.
func alertmanager(t target, ev Event) ([]request, error) {
	annotations := map[string]string{"message": ev.Message}
	labels := map[string]string{}
	for k, v := range ev.Metadata {
		if k == "summary" {
			annotations["summary"] = v
			continue
		}
		labels[k] = v
	}
	o := ev.InvolvedObject
	labels["alertname"] = "Flux" + o.Kind + titleCase(ev.Reason)
	labels["severity"], labels["reason"] = ev.Severity, ev.Reason
	labels["kind"], labels["name"], labels["namespace"] = o.Kind, o.Name, o.Namespace
	labels["reportingcontroller"] = ev.ReportingController
	r, err := jsonRequest(t.address, []any{map[string]any{
		"status": "firing", "labels": labels, "annotations": annotations,
		"startsAt": ev.Timestamp.UTC().Format(time.RFC3339), "endsAt": time.Time{}.Format(time.RFC3339),
	}})
	if err != nil {
		return nil, err
	}
	switch {
	case t.username != "" && t.password != "":
		r.header.Set("Authorization", "Basic "+basicAuth(t.username, t.password))
	case t.token != "":
		r.header.Set("Authorization", "Bearer "+t.token)
	}
	return []request{r}, nil
}

// titleCase upper-cases the first letter of each word and lower-cases the
// rest, as golang.org/x/text's cases.Title does for Flux's alertname.
func titleCase(s string) string {
	rs := []rune(s)
	start := true
	for i, r := range rs {
		if unicode.IsSpace(r) {
			start = true
			continue
		}
		if start {
			rs[i] = unicode.ToUpper(r)
		} else {
			rs[i] = unicode.ToLower(r)
		}
		start = false
	}
	return string(rs)
}

func basicAuth(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
