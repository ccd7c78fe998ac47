package awstest

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The EKS token format, as aws-iam-authenticator's verifier checks it.
const (
	eksTokenPrefix    = "k8s-aws-v1."
	eksTokenMaxLen    = 4096
	eksClusterHeader  = "x-k8s-aws-id"
	eksDateFormat     = "20060102T150405Z"
	eksTokenLifetime  = 15 * time.Minute // STS accepts a presigned GetCallerIdentity for 15 minutes after X-Amz-Date, whatever X-Amz-Expires says
	eksMaxClockSkew   = 15 * time.Minute // STS refuses signatures dated further ahead than this
	eksEmptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// eksAllowedParams are the only query parameters aws-iam-authenticator's
// verifier accepts in a token's URL (lower-cased).
var eksAllowedParams = map[string]bool{
	"action":               true,
	"version":              true,
	"x-amz-algorithm":      true,
	"x-amz-credential":     true,
	"x-amz-date":           true,
	"x-amz-expires":        true,
	"x-amz-security-token": true,
	"x-amz-signature":      true,
	"x-amz-signedheaders":  true,
}

// EKSIdentity is an IAM principal the token webhook knows: its credentials
// (the webhook's stand-in for IAM) and the Kubernetes user its EKS access
// entry maps it to.
type EKSIdentity struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when set, must come with the token, as for a role session.
	SessionToken string
	// Username is the Kubernetes user the access entry names (EKS's default
	// for an IAM role is its ARN).
	Username string
	// Groups are the Kubernetes groups the access entry names.
	Groups []string
}

// EKSReview is one TokenReview the webhook answered.
type EKSReview struct {
	// Token is the bearer token under review.
	Token string
	// Username is who the token authenticated as; empty when refused.
	Username string
	// Refusal says why the token was refused; empty when accepted.
	Refusal string
}

// EKSAuthWebhook authenticates EKS IAM tokens for a test API server, in
// place of the aws-iam-authenticator that EKS runs: a TokenReview webhook
// (for kube-apiserver's --authentication-token-webhook-config-file) that
// decodes the presigned STS GetCallerIdentity URL, checks it the way
// aws-iam-authenticator's verifier does, and, instead of calling STS,
// verifies its SigV4 signature by recomputing it with the identity's
// credentials. A token presigned for another cluster fails that check,
// because the webhook signs the x-k8s-aws-id header with its own cluster name.
type EKSAuthWebhook struct {
	server  *httptest.Server
	cluster string
	region  string

	mu         sync.Mutex
	now        func() time.Time
	identities map[string]EKSIdentity
	rejectNext int
	reviews    []EKSReview
}

// NewEKSAuthWebhook starts a webhook for the EKS cluster named cluster whose
// tokens are presigned for STS in region. Close it when done.
func NewEKSAuthWebhook(cluster, region string, identities ...EKSIdentity) *EKSAuthWebhook {
	w := &EKSAuthWebhook{cluster: cluster, region: region, now: time.Now, identities: map[string]EKSIdentity{}}
	for _, id := range identities {
		w.identities[id.AccessKeyID] = id
	}
	w.server = httptest.NewTLSServer(http.HandlerFunc(w.serve))
	return w
}

// Close stops the webhook.
func (w *EKSAuthWebhook) Close() { w.server.Close() }

// SetClock makes the webhook judge token expiry by now instead of the wall clock.
func (w *EKSAuthWebhook) SetClock(now func() time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = now
}

// RejectNext refuses the next n reviews whatever the token, as EKS does when
// its authenticator cannot reach STS.
func (w *EKSAuthWebhook) RejectNext(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rejectNext = n
}

// Reviews returns the reviews answered so far, oldest first.
func (w *EKSAuthWebhook) Reviews() []EKSReview {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]EKSReview(nil), w.reviews...)
}

// APIServerFlags writes the webhook's kubeconfig into dir and returns the
// kube-apiserver flags that make the API server ask the webhook about every
// bearer token (v1 TokenReviews, no caching of answers).
func (w *EKSAuthWebhook) APIServerFlags(dir string) (map[string]string, error) {
	path, err := w.Kubeconfig(dir)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"authentication-token-webhook-config-file": path,
		"authentication-token-webhook-version":     "v1",
		"authentication-token-webhook-cache-ttl":   "0s",
	}, nil
}

// Kubeconfig writes, into dir, the kubeconfig that kube-apiserver's
// --authentication-token-webhook-config-file takes (cluster.server is the
// webhook) and returns its path.
func (w *EKSAuthWebhook) Kubeconfig(dir string) (string, error) {
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: w.server.Certificate().Raw})
	// JSON is YAML, and keeps this package free of clientcmd.
	cfg := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{
			"name":    "eks-auth-webhook",
			"cluster": map[string]any{"server": w.server.URL + "/authenticate", "certificate-authority-data": base64.StdEncoding.EncodeToString(ca)},
		}},
		"users": []any{map[string]any{"name": "kube-apiserver", "user": map[string]any{}}},
		"contexts": []any{map[string]any{
			"name":    "webhook",
			"context": map[string]any{"cluster": "eks-auth-webhook", "user": "kube-apiserver"},
		}},
		"current-context": "webhook",
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the token webhook kubeconfig: %w", err)
	}
	path := filepath.Join(dir, "eks-auth-webhook.kubeconfig")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", fmt.Errorf("writing the token webhook kubeconfig: %w", err)
	}
	return path, nil
}

func (w *EKSAuthWebhook) serve(rw http.ResponseWriter, r *http.Request) {
	var review authenticationv1.TokenReview
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&review) != nil {
		http.Error(rw, "expected a POSTed authentication.k8s.io/v1 TokenReview", http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	now := w.now()
	reject := w.rejectNext > 0
	if reject {
		w.rejectNext--
	}
	w.mu.Unlock()

	token := review.Spec.Token
	var (
		id  EKSIdentity
		err error
	)
	if reject {
		err = errors.New("STS is unavailable")
	} else {
		id, err = w.verify(r.Context(), token, now)
	}

	rec := EKSReview{Token: token}
	status := authenticationv1.TokenReviewStatus{}
	if err != nil {
		rec.Refusal = err.Error()
		status.Error = err.Error()
	} else {
		rec.Username = id.Username
		status.Authenticated = true
		status.User = authenticationv1.UserInfo{Username: id.Username, UID: "aws-iam-authenticator:" + id.AccessKeyID, Groups: id.Groups}
	}
	w.mu.Lock()
	w.reviews = append(w.reviews, rec)
	w.mu.Unlock()

	out := authenticationv1.TokenReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenReview"},
		Status:   status,
	}
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(out)
}

// verify checks a token as aws-iam-authenticator would, then its signature.
func (w *EKSAuthWebhook) verify(ctx context.Context, token string, now time.Time) (EKSIdentity, error) {
	u, q, err := eksParseToken(token, w.region)
	if err != nil {
		return EKSIdentity{}, err
	}
	signedAt, err := eksCheckTimes(q, now)
	if err != nil {
		return EKSIdentity{}, err
	}
	accessKey, err := eksCheckCredentialScope(q.Get("X-Amz-Credential"), signedAt, w.region)
	if err != nil {
		return EKSIdentity{}, err
	}
	w.mu.Lock()
	id, ok := w.identities[accessKey]
	w.mu.Unlock()
	if !ok {
		return EKSIdentity{}, fmt.Errorf("access key %s belongs to no known IAM principal", accessKey)
	}
	if q.Get("X-Amz-Security-Token") != id.SessionToken {
		return EKSIdentity{}, errors.New("the security token included in the request is invalid")
	}
	want, err := eksSignature(ctx, u, q, id, w.cluster, w.region, signedAt)
	if err != nil {
		return EKSIdentity{}, err
	}
	if !hmac.Equal([]byte(want), []byte(q.Get("X-Amz-Signature"))) {
		return EKSIdentity{}, errors.New("signature does not match: the token was altered, signed with other credentials, or presigned for another cluster")
	}
	return id, nil
}

// eksParseToken decodes a token and checks its URL's shape and parameters.
func eksParseToken(token, region string) (*url.URL, url.Values, error) {
	if len(token) > eksTokenMaxLen {
		return nil, nil, errors.New("token is too large")
	}
	encoded, ok := strings.CutPrefix(token, eksTokenPrefix)
	if !ok {
		return nil, nil, fmt.Errorf("token lacks the %q prefix", eksTokenPrefix)
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		return nil, nil, fmt.Errorf("token is not unpadded base64url: %w", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("token is not a URL: %w", err)
	}
	if host := "sts." + region + ".amazonaws.com"; u.Scheme != "https" || u.Host != host || u.Path != "/" {
		return nil, nil, fmt.Errorf("token URL is not https://%s/", host)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, nil, fmt.Errorf("token URL has a malformed query: %w", err)
	}
	for k, v := range q {
		if !eksAllowedParams[strings.ToLower(k)] {
			return nil, nil, fmt.Errorf("token URL has the query parameter %q, which is not allowed", k)
		}
		if len(v) != 1 {
			return nil, nil, fmt.Errorf("token URL repeats the query parameter %q", k)
		}
	}
	if q.Get("Action") != "GetCallerIdentity" || q.Get("Version") != "2011-06-15" {
		return nil, nil, errors.New("token URL is not an STS GetCallerIdentity (Version 2011-06-15) request")
	}
	if q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" {
		return nil, nil, errors.New("token URL is not signed with AWS4-HMAC-SHA256")
	}
	signed := strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	if len(signed) != 2 || signed[0] != "host" || signed[1] != eksClusterHeader {
		return nil, nil, fmt.Errorf("token URL signs the headers %q, not host and %s", q.Get("X-Amz-SignedHeaders"), eksClusterHeader)
	}
	return u, q, nil
}

// eksCheckTimes checks X-Amz-Expires as aws-iam-authenticator does and that
// the token is within its 15-minute life, returning when it was signed.
func eksCheckTimes(q url.Values, now time.Time) (time.Time, error) {
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires < 0 || expires > int(eksTokenLifetime/time.Second) {
		return time.Time{}, fmt.Errorf("invalid X-Amz-Expires %q", q.Get("X-Amz-Expires"))
	}
	signedAt, err := time.Parse(eksDateFormat, q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid X-Amz-Date %q", q.Get("X-Amz-Date"))
	}
	if now.After(signedAt.Add(eksTokenLifetime)) {
		return time.Time{}, fmt.Errorf("token expired: signed at %s, valid for %s", signedAt.Format(time.RFC3339), eksTokenLifetime)
	}
	if signedAt.After(now.Add(eksMaxClockSkew)) {
		return time.Time{}, fmt.Errorf("token is not yet valid: signed at %s", signedAt.Format(time.RFC3339))
	}
	return signedAt, nil
}

// eksCheckCredentialScope checks "AKID/yyyymmdd/region/sts/aws4_request"
// against the signing date and region, returning the access key id.
func eksCheckCredentialScope(credential string, signedAt time.Time, region string) (string, error) {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[0] == "" || parts[1] != signedAt.Format("20060102") ||
		parts[2] != region || parts[3] != "sts" || parts[4] != "aws4_request" {
		return "", fmt.Errorf("invalid X-Amz-Credential %q for STS in %s", credential, region)
	}
	return parts[0], nil
}

// eksSignature recomputes the signature the token should carry: the same
// GET, with the x-k8s-aws-id header set to this webhook's cluster, presigned
// by the SDK's v4 signer with the identity's credentials at the token's time.
func eksSignature(ctx context.Context, u *url.URL, q url.Values, id EKSIdentity, cluster, region string, signedAt time.Time) (string, error) {
	unsigned := url.Values{}
	for k, v := range q {
		switch k {
		// The signer adds these itself, from the credentials and time.
		case "X-Amz-Signature", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Security-Token":
		default:
			unsigned[k] = v
		}
	}
	target := *u
	target.RawQuery = unsigned.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
	if err != nil {
		return "", fmt.Errorf("rebuilding the STS request: %w", err)
	}
	req.Header.Set(eksClusterHeader, cluster)
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
	signedURL, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, eksEmptySHA256Hex, "sts", region, signedAt)
	if err != nil {
		return "", fmt.Errorf("recomputing the signature: %w", err)
	}
	su, err := url.Parse(signedURL)
	if err != nil {
		return "", fmt.Errorf("recomputing the signature: %w", err)
	}
	return su.Query().Get("X-Amz-Signature"), nil
}
