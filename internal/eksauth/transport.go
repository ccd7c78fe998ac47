package eksauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// maxStatusBody bounds how much of an error response is read to add a hint.
const maxStatusBody = 1 << 20

// wrapTransport is the rest.Config WrapTransport of an EKS config.
func (p *Provider) wrapTransport(next http.RoundTripper) http.RoundTripper {
	return &tokenTransport{p: p, next: next}
}

// tokenTransport sends the Provider's current token. A 401 means the API
// server refused it (expired while the Lambda container was frozen, say, or
// the authenticator could not reach STS): it refreshes the token and retries
// once, and only when the request body can be sent again.
type tokenTransport struct {
	p    *Provider
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	token, err := t.p.Token(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := t.next.RoundTrip(withBearer(req, token))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return t.p.explainDenial(resp), err
	}
	retry, ok := replayable(req)
	if !ok {
		return discoveryDenial(req, t.p.explainDenial(resp))
	}
	fresh, err := t.p.refresh(ctx, token)
	if err != nil {
		slog.WarnContext(ctx, "EKS API server refused the token and a new one could not be made", "cluster", t.p.cluster, "error", err)
		return discoveryDenial(req, t.p.explainDenial(resp))
	}
	slog.InfoContext(ctx, "EKS API server refused the token: retrying once with a new one", "cluster", t.p.cluster, "method", req.Method, "path", req.URL.Path)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxStatusBody))
	_ = resp.Body.Close()
	resp, err = t.next.RoundTrip(withBearer(retry, fresh))
	if err != nil {
		return nil, err
	}
	return discoveryDenial(req, t.p.explainDenial(resp))
}

// DeniedError is a 401 to a discovery request, with the hint of what the
// role needs. client-go reads discovery answers raw, so a 401 there becomes
// "the server has asked for the client to provide credentials" whatever the
// body says; as a transport error its message reaches the caller whole.
type DeniedError struct {
	URL     string
	Message string
}

func (e *DeniedError) Error() string { return e.Message }

// discoveryDenial turns a 401 to a discovery GET (/api, /apis and their
// group versions) into a DeniedError; other answers pass through.
func discoveryDenial(req *http.Request, resp *http.Response) (*http.Response, error) {
	if resp == nil || resp.StatusCode != http.StatusUnauthorized || req.Method != http.MethodGet || !isDiscovery(req.URL.Path) {
		return resp, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	_ = resp.Body.Close()
	status, ok := decodeStatus(resp.Header.Get("Content-Type"), body)
	if !ok {
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	return nil, &DeniedError{URL: req.URL.Redacted(), Message: fmt.Sprintf("%s (%d %s)", status.Message, resp.StatusCode, status.Reason)}
}

func isDiscovery(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch parts[0] {
	case "api":
		return len(parts) <= 2
	case "apis":
		return len(parts) <= 3
	}
	return false
}

// withBearer returns a copy of req that carries token; a RoundTripper must
// not change the request it is given.
func withBearer(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// replayable returns a copy of req with a fresh body to send again, or false
// when the body was consumed and cannot be had again (no GetBody).
func replayable(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, true
}

// explainDenial adds to the message of a 401, and of a 403 from RBAC, what
// an EKS cluster needs of the role, so that the error client-go makes of it
// says what to fix. The status code, reason and encoding stay as the API
// server sent them, so apierrors.IsUnauthorized and IsForbidden still hold.
func (p *Provider) explainDenial(resp *http.Response) *http.Response {
	if resp == nil {
		return nil
	}
	var hint string
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		hint = fmt.Sprintf("the API server of EKS cluster %q did not accept this IAM identity's token: the role needs an EKS access entry for the cluster (aws eks create-access-entry), and the cluster's authentication mode must allow access entries", p.cluster)
	case http.StatusForbidden:
		hint = fmt.Sprintf("the role's EKS access entry for cluster %q needs an access policy or Kubernetes groups that allow this (aws eks associate-access-policy)", p.cluster)
	default:
		return resp
	}
	if resp.Header.Get("Content-Encoding") != "" {
		return resp
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return resp
	}
	contentType := resp.Header.Get("Content-Type")
	status, ok := decodeStatus(contentType, body)
	// A 403 is an access entry's concern only when RBAC denied the user;
	// admission also answers 403 (a namespace being deleted, say).
	if !ok || resp.StatusCode == http.StatusForbidden && !strings.Contains(status.Message, `is forbidden: User "`) {
		return resp
	}
	status.Message = strings.TrimSuffix(status.Message, ".") + ": " + hint
	annotated, err := encodeStatus(contentType, body, status)
	if err != nil {
		return resp
	}
	resp.Body = io.NopCloser(bytes.NewReader(annotated))
	resp.ContentLength = int64(len(annotated))
	resp.Header.Set("Content-Length", strconv.Itoa(len(annotated)))
	return resp
}

// protobufMagic starts every Kubernetes protobuf body (typed clientsets ask
// for protobuf, so the API server answers their errors in it).
var protobufMagic = []byte("k8s\x00")

// decodeStatus reads a Status from a JSON or Kubernetes protobuf body.
func decodeStatus(contentType string, body []byte) (metav1.Status, bool) {
	var status metav1.Status
	switch {
	case strings.Contains(contentType, "json"):
		if json.Unmarshal(body, &status) != nil || status.Kind != "Status" {
			return metav1.Status{}, false
		}
	case strings.Contains(contentType, "protobuf") && bytes.HasPrefix(body, protobufMagic):
		var u runtime.Unknown
		if u.Unmarshal(body[len(protobufMagic):]) != nil || u.Kind != "Status" || status.Unmarshal(u.Raw) != nil {
			return metav1.Status{}, false
		}
	default:
		return metav1.Status{}, false
	}
	return status, true
}

// encodeStatus writes status in the encoding original came in.
func encodeStatus(contentType string, original []byte, status metav1.Status) ([]byte, error) {
	if strings.Contains(contentType, "json") {
		return json.Marshal(status)
	}
	var u runtime.Unknown
	if err := u.Unmarshal(original[len(protobufMagic):]); err != nil {
		return nil, err
	}
	raw, err := status.Marshal()
	if err != nil {
		return nil, err
	}
	u.Raw = raw
	b, err := u.Marshal()
	if err != nil {
		return nil, err
	}
	return append(append([]byte(nil), protobufMagic...), b...), nil
}
