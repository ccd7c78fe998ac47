package eksauth

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	applycorev1 "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/kubetest"
)

var nsCounter atomic.Int64

// nextSecond moves the shared clock on a second. Tokens are deterministic
// (same credentials, cluster and second give the same string) and the API
// server remembers tokens it accepted for 10 seconds of real time without
// asking the webhook again: a test that counts reviews needs tokens no
// earlier test made.
func nextSecond() { e2eClock.Advance(time.Second) }

// sentTokens records the bearer tokens the rest.Config's requests carry on
// the wire, beneath Sluice's token transport.
type sentTokens struct {
	mu     sync.Mutex
	tokens []string
}

func (s *sentTokens) record(cfg *rest.Config) {
	sluice := cfg.WrapTransport
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return sluice(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			s.mu.Lock()
			s.tokens = append(s.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			s.mu.Unlock()
			return rt.RoundTrip(r)
		}))
	}
}

func (s *sentTokens) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// freshNamespace creates a namespace no other test uses (envtest never
// finishes deleting namespaces).
func freshNamespace(t *testing.T) string {
	t.Helper()
	base := strings.ToLower(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(t.Name(), "-"))
	name := fmt.Sprintf("%.40s-%d-%d", base, time.Now().UnixNano()%100000, nsCounter.Add(1))
	if err := kubetest.CreateNamespace(context.Background(), testEnv.Config, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// staticProvider is a Provider with the identity's static credentials, the
// EKS stand-in for DescribeCluster and the real STS presigner (wrapped to
// count when presigner is not nil).
func staticProvider(t *testing.T, cluster string, id awstest.EKSIdentity, now func() time.Time, presigner *countingPresigner) *Provider {
	t.Helper()
	cfg := aws.Config{Region: e2eRegion, Credentials: credentials.NewStaticCredentialsProvider(id.AccessKeyID, id.SecretAccessKey, id.SessionToken)}
	opts := []Option{
		WithAWSConfig(cfg),
		WithEKSClient(eks.NewFromConfig(cfg, func(o *eks.Options) { o.BaseEndpoint = aws.String(eksServer.URL()) })),
		WithClock(now),
	}
	if presigner != nil {
		presigner.next = sts.NewPresignClient(sts.NewFromConfig(cfg))
		opts = append(opts, WithSTSPresignClient(presigner))
	}
	p, err := New(context.Background(), cluster, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func clientset(t *testing.T, cfg *rest.Config) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// bearerClient sends exactly token, with no refresh: to see what the API
// server makes of one token.
func bearerClient(t *testing.T, token string) *kubernetes.Clientset {
	return clientset(t, &rest.Config{Host: testEnv.Config.Host, TLSClientConfig: rest.TLSClientConfig{CAData: testEnv.Config.CAData}, BearerToken: token})
}

// applyConfigMap server-side applies a ConfigMap, as Sluice applies objects.
func applyConfigMap(ctx context.Context, cs *kubernetes.Clientset, ns, revision string) error {
	cm := applycorev1.ConfigMap("sluice-applied", ns).WithData(map[string]string{"revision": revision})
	_, err := cs.CoreV1().ConfigMaps(ns).Apply(ctx, cm, metav1.ApplyOptions{FieldManager: "sluice", Force: true})
	return err
}

// TestEKSApplyThroughIAM: the rest.Config that ClusterConfig builds from the
// environment (region, role credentials, AWS_ENDPOINT_URL_EKS) authenticates
// through the token webhook as the role's user and server-side applies.
func TestEKSApplyThroughIAM(t *testing.T) {
	isolateAWS(t)
	awsEnv(t, e2eRegion, admin.AccessKeyID, admin.SecretAccessKey)
	t.Setenv("AWS_ENDPOINT_URL_EKS", eksServer.URL())
	ctx := context.Background()
	nextSecond()

	cfg, err := ClusterConfig(ctx, e2eCluster, WithClock(e2eClock.Now))
	if err != nil {
		t.Fatal(err)
	}
	cs := clientset(t, cfg)
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("who am I: %v", err)
	}
	if u := review.Status.UserInfo; u.Username != admin.Username || !slices.Contains(u.Groups, "sluice:reconcilers") {
		t.Errorf("authenticated as %q %v, want %q in sluice:reconcilers", u.Username, u.Groups, admin.Username)
	}

	ns := freshNamespace(t)
	if err := applyConfigMap(ctx, cs, ns, "abc123"); err != nil {
		t.Fatalf("server-side apply through IAM: %v", err)
	}
	got, err := clientset(t, testEnv.Config).CoreV1().ConfigMaps(ns).Get(ctx, "sluice-applied", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Data["revision"] != "abc123" || len(got.ManagedFields) != 1 || got.ManagedFields[0].Manager != "sluice" || got.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("applied ConfigMap data %v, managed fields %+v; want revision abc123 applied by sluice", got.Data, got.ManagedFields)
	}
	reviews := webhook.Reviews()
	if last := reviews[len(reviews)-1]; last.Username != admin.Username {
		t.Errorf("last token review: %+v, want %s accepted", last, admin.Username)
	}
}

// rewriteTokenURL decodes token, edits its URL and encodes it again.
func rewriteTokenURL(t *testing.T, token string, edit func(string) string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(token, tokenPrefix))
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(string(raw))
	if edited == string(raw) {
		t.Fatal("the edit changed nothing")
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(edited))
}

func TestEKSRefusesBadTokens(t *testing.T) {
	tokenOf := func(t *testing.T, cluster string, id awstest.EKSIdentity, now func() time.Time) string {
		tok, err := staticProvider(t, cluster, id, now, nil).Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := func(t *testing.T) string { return tokenOf(t, e2eCluster, admin, e2eClock.Now) }
	tests := []struct {
		name        string
		token       func(t *testing.T) string
		wantRefusal string // empty: accepted
	}{
		{name: "valid token (control)", token: valid},
		{
			name: "tampered signature",
			token: func(t *testing.T) string {
				return rewriteTokenURL(t, valid(t), func(u string) string {
					i := strings.Index(u, "X-Amz-Signature=") + len("X-Amz-Signature=")
					flipped := map[byte]string{'0': "1"}[u[i]]
					if flipped == "" {
						flipped = "0"
					}
					return u[:i] + flipped + u[i+1:]
				})
			},
			wantRefusal: "signature does not match",
		},
		{name: "presigned for another cluster", token: func(t *testing.T) string { return tokenOf(t, otherCluster, admin, e2eClock.Now) }, wantRefusal: "signature does not match"},
		{
			name: "expired: signed 15m1s ago",
			token: func(t *testing.T) string {
				return tokenOf(t, e2eCluster, admin, func() time.Time { return e2eClock.Now().Add(-15*time.Minute - time.Second) })
			},
			wantRefusal: "token expired",
		},
		{
			name: "unknown access key",
			token: func(t *testing.T) string {
				return tokenOf(t, e2eCluster, awstest.EKSIdentity{AccessKeyID: "AKIAUNKNOWN000000003", SecretAccessKey: "x"}, e2eClock.Now)
			},
			wantRefusal: "no known IAM principal",
		},
		{
			name: "admin's key id with another secret",
			token: func(t *testing.T) string {
				return tokenOf(t, e2eCluster, awstest.EKSIdentity{AccessKeyID: admin.AccessKeyID, SecretAccessKey: "not-the-secret"}, e2eClock.Now)
			},
			wantRefusal: "signature does not match",
		},
		{
			name: "X-Amz-Expires raised after signing",
			token: func(t *testing.T) string {
				return rewriteTokenURL(t, valid(t), func(u string) string { return strings.Replace(u, "X-Amz-Expires=60", "X-Amz-Expires=900", 1) })
			},
			wantRefusal: "signature does not match",
		},
		{
			name: "extra query parameter",
			token: func(t *testing.T) string {
				return rewriteTokenURL(t, valid(t), func(u string) string { return strings.Replace(u, "?", "?X-Amz-Foo=1&", 1) })
			},
			wantRefusal: `"X-Amz-Foo", which is not allowed`,
		},
		{name: "not an EKS token", token: func(*testing.T) string { return "k8s-aws-v2.abc" }, wantRefusal: "lacks the"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nextSecond()
			token := tt.token(t)
			before := len(webhook.Reviews())
			_, err := bearerClient(t, token).CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{})
			reviews := webhook.Reviews()[before:]
			if len(reviews) != 1 || reviews[0].Token != token {
				t.Fatalf("the webhook reviewed %d tokens, want exactly this one", len(reviews))
			}
			if tt.wantRefusal == "" {
				if err != nil {
					t.Fatalf("valid token refused: %v (webhook: %q)", err, reviews[0].Refusal)
				}
				return
			}
			if !apierrors.IsUnauthorized(err) {
				t.Fatalf("error = %v, want 401 Unauthorized", err)
			}
			if !strings.Contains(reviews[0].Refusal, tt.wantRefusal) {
				t.Errorf("webhook refused it because %q, want %q", reviews[0].Refusal, tt.wantRefusal)
			}
		})
	}
}

// TestEKSTokenRefreshAfter14Minutes: requests reuse the token until 14
// minutes have passed; the next one carries a new token, which the API
// server accepts.
func TestEKSTokenRefreshAfter14Minutes(t *testing.T) {
	ctx := context.Background()
	nextSecond()
	cfg, err := staticProvider(t, e2eCluster, admin, e2eClock.Now, nil).RESTConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sent sentTokens
	sent.record(cfg)
	cs := clientset(t, cfg)
	get := func(step string) string {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		tokens := sent.all()
		return tokens[len(tokens)-1]
	}

	first := get("first request")
	e2eClock.Advance(13*time.Minute + 59*time.Second)
	if got := get("after 13m59s"); got != first {
		t.Error("after 13m59s the request carried a new token; want the cached one")
	}
	e2eClock.Advance(time.Second)
	before := len(webhook.Reviews())
	second := get("after 14m")
	if second == first {
		t.Fatal("after 14m the request carried the old token")
	}
	if got, want := decodeToken(t, second).Query().Get("X-Amz-Date"), e2eClock.Now().UTC().Format("20060102T150405Z"); got != want {
		t.Errorf("new token signed at %s, want %s", got, want)
	}
	if reviews := webhook.Reviews()[before:]; len(reviews) != 1 || reviews[0].Token != second || reviews[0].Username != admin.Username {
		t.Errorf("reviews of the new token: %+v, want it accepted as %s", reviews, admin.Username)
	}
	if got := len(sent.all()); got != 3 {
		t.Errorf("%d requests went out, want 3 (no retries)", got)
	}
}

// TestEKSUnauthorizedRefreshesOnce: a 401 makes the transport presign once
// more and retry once; it never loops.
func TestEKSUnauthorizedRefreshesOnce(t *testing.T) {
	tests := []struct {
		name       string
		rejectNext int
		wantErr    bool
	}{
		{name: "refused once: the retry succeeds", rejectNext: 1},
		{name: "refused every time: one retry, then the 401 with a hint", rejectNext: 5, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			nextSecond()
			// Each token is signed a second after the last, so the retry's
			// token is visibly new.
			var ticks atomic.Int64
			ticking := func() time.Time { return e2eClock.Now().Add(time.Duration(ticks.Add(1)) * time.Second) }
			presigner := &countingPresigner{}
			cfg, err := staticProvider(t, e2eCluster, admin, ticking, presigner).RESTConfig(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var sent sentTokens
			sent.record(cfg)
			cs := clientset(t, cfg)
			ns := freshNamespace(t)

			webhook.RejectNext(tt.rejectNext)
			defer webhook.RejectNext(0)
			presignsBefore, reviewsBefore := presigner.calls.Load(), len(webhook.Reviews())
			err = applyConfigMap(ctx, cs, ns, "retried") // a PATCH with a body, replayed for the retry

			if got := len(webhook.Reviews()) - reviewsBefore; got != 2 {
				t.Errorf("the API server reviewed %d tokens, want 2 (the request and one retry)", got)
			}
			if got := presigner.calls.Load() - presignsBefore; got != 1 {
				t.Errorf("presigned %d tokens after the 401, want 1", got)
			}
			if tokens := sent.all(); len(tokens) != 2 || tokens[0] == tokens[1] {
				t.Errorf("%d requests went out, want 2: the refused one and one retry with a new token", len(tokens))
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("apply after one refusal: %v", err)
				}
				return
			}
			if !apierrors.IsUnauthorized(err) {
				t.Fatalf("error = %v, want 401 Unauthorized", err)
			}
			t.Log(err)
			if !strings.Contains(err.Error(), "needs an EKS access entry") || !strings.Contains(err.Error(), e2eCluster) {
				t.Errorf("error %q does not say the role needs an access entry for %s", err, e2eCluster)
			}
		})
	}
}

// TestEKSForbiddenHint: an identity the API server knows but RBAC does not
// allow gets a 403 that says what its access entry lacks.
func TestEKSForbiddenHint(t *testing.T) {
	ctx := context.Background()
	nextSecond()
	cfg, err := staticProvider(t, e2eCluster, viewer, e2eClock.Now, nil).RESTConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = applyConfigMap(ctx, clientset(t, cfg), freshNamespace(t), "denied")
	if !apierrors.IsForbidden(err) {
		t.Fatalf("error = %v, want 403 Forbidden", err)
	}
	t.Log(err)
	for _, want := range []string{viewer.Username, "access policy or Kubernetes groups"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestClusterConfigFromKubeconfig(t *testing.T) {
	kubeconfig, err := testEnv.Kubeconfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		kubeconfig string
		wantErr    string
	}{
		{name: "KUBECONFIG names the cluster", kubeconfig: kubeconfig},
		{name: "KUBECONFIG names no file", kubeconfig: filepath.Join(t.TempDir(), "missing"), wantErr: "no usable kubeconfig (KUBECONFIG="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.kubeconfig)
			cfg, err := ClusterConfig(context.Background(), "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := clientset(t, cfg).CoreV1().Namespaces().Get(context.Background(), "default", metav1.GetOptions{}); err != nil {
				t.Errorf("reaching the cluster through KUBECONFIG: %v", err)
			}
		})
	}
}
