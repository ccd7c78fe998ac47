package eksauth

import (
	"context"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
)

const (
	unitCluster = "sluice-prod"
	unitRegion  = "eu-west-1"
	unitKeyID   = "AKIDEXAMPLE"
	unitSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// unitTime is the fixed clock of the unit tests.
var unitTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// unitAWSConfig has static credentials and no endpoints: presigning makes no
// network call.
func unitAWSConfig(sessionToken string) aws.Config {
	return aws.Config{
		Region:      unitRegion,
		Credentials: credentials.NewStaticCredentialsProvider(unitKeyID, unitSecret, sessionToken),
	}
}

// countingPresigner counts presign calls and hands them to the real client.
type countingPresigner struct {
	next  STSPresignAPI
	calls atomic.Int64
}

func (c *countingPresigner) PresignGetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.PresignOptions)) (*v4.PresignedHTTPRequest, error) {
	c.calls.Add(1)
	return c.next.PresignGetCallerIdentity(ctx, in, optFns...)
}

func newCountingPresigner(cfg aws.Config) *countingPresigner {
	return &countingPresigner{next: sts.NewPresignClient(sts.NewFromConfig(cfg))}
}

// clock is a settable clock safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func decodeToken(t *testing.T, token string) *url.URL {
	t.Helper()
	encoded, ok := strings.CutPrefix(token, "k8s-aws-v1.")
	if !ok {
		t.Fatalf("token %q lacks the k8s-aws-v1. prefix", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatalf("token is not unpadded base64url: %v", err)
	}
	u, err := url.Parse(string(raw))
	if err != nil {
		t.Fatalf("token is not a URL: %v", err)
	}
	return u
}

// TestTokenGolden: static credentials and a fixed clock give one exact token.
// Its signature, c79e718f...af06b2, was computed apart from the SDK, by
// following the SigV4 specification for the canonical request
// "GET / <query> host:sts.eu-west-1.amazonaws.com x-k8s-aws-id:sluice-prod"
// with an empty payload.
func TestTokenGolden(t *testing.T) {
	const want = "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BS0lERVhBTVBMRSUyRjIwMjYwMzE0JTJGZXUtd2VzdC0xJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNjAzMTRUMTUwOTI2WiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9Yzc5ZTcxOGZmOTkyMThmY2U5OTllOWYyZjI3NDM0Njk5ZDI4MThmY2YzZmQxZmMxYWI4OWQyZjM5NWFmMDZiMg"
	p, err := New(context.Background(), unitCluster, WithAWSConfig(unitAWSConfig("")), WithClock(func() time.Time { return unitTime }))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // the second call returns the cached token
		got, err := p.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("call %d: token = %q, want %q", i, got, want)
		}
	}
	const wantURL = "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=AKIDEXAMPLE%2F20260314%2Feu-west-1%2Fsts%2Faws4_request&X-Amz-Date=20260314T150926Z&X-Amz-Expires=60" +
		"&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=c79e718ff99218fce999e9f2f27434699d2818fcf3fd1fc1ab89d2f395af06b2"
	if got := decodeToken(t, want).String(); got != wantURL {
		t.Errorf("decoded token = %s, want %s", got, wantURL)
	}
}

func TestTokenURL(t *testing.T) {
	tests := []struct {
		name         string
		sessionToken string
		wantParams   []string
	}{
		{
			name:       "long-term credentials",
			wantParams: []string{"Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Signature", "X-Amz-SignedHeaders"},
		},
		{
			name:         "role session",
			sessionToken: "FQoGZXIvYXdzEXAMPLESESSION",
			wantParams:   []string{"Action", "Version", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-SignedHeaders"},
		},
	}
	// The query parameters aws-iam-authenticator's verifier accepts (lower-cased).
	allowed := map[string]bool{
		"action": true, "version": true, "x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
		"x-amz-expires": true, "x-amz-security-token": true, "x-amz-signature": true, "x-amz-signedheaders": true,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(context.Background(), unitCluster, WithAWSConfig(unitAWSConfig(tt.sessionToken)), WithClock(func() time.Time { return unitTime }))
			if err != nil {
				t.Fatal(err)
			}
			token, err := p.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			u := decodeToken(t, token)
			if u.Scheme != "https" || u.Host != "sts."+unitRegion+".amazonaws.com" || u.Path != "/" {
				t.Errorf("URL = %s, want https://sts.%s.amazonaws.com/ (the regional endpoint)", u, unitRegion)
			}
			q := u.Query()
			var names []string
			for k, v := range q {
				names = append(names, k)
				if !allowed[strings.ToLower(k)] {
					t.Errorf("query parameter %q is not one aws-iam-authenticator allows", k)
				}
				if len(v) != 1 {
					t.Errorf("query parameter %q has %d values, want 1", k, len(v))
				}
			}
			sort.Strings(names)
			if diff := cmp.Diff(tt.wantParams, names); diff != "" {
				t.Errorf("query parameters (-want +got):\n%s", diff)
			}
			want := map[string]string{
				"Action":               "GetCallerIdentity",
				"Version":              "2011-06-15",
				"X-Amz-Algorithm":      "AWS4-HMAC-SHA256",
				"X-Amz-Credential":     unitKeyID + "/20260314/" + unitRegion + "/sts/aws4_request",
				"X-Amz-Date":           "20260314T150926Z",
				"X-Amz-Expires":        "60",
				"X-Amz-SignedHeaders":  "host;x-k8s-aws-id",
				"X-Amz-Security-Token": tt.sessionToken,
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if sig := q.Get("X-Amz-Signature"); len(sig) != 64 {
				t.Errorf("X-Amz-Signature = %q, want 64 hex digits", sig)
			}
		})
	}
}

func TestTokenRefreshesAt14Minutes(t *testing.T) {
	c := newClock(unitTime)
	presigner := newCountingPresigner(unitAWSConfig(""))
	p, err := New(context.Background(), unitCluster, WithAWSConfig(unitAWSConfig("")), WithSTSPresignClient(presigner), WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		advance  time.Duration
		wantNew  bool
		wantDate string
	}{
		{name: "first use presigns", wantNew: true, wantDate: "20260314T150926Z"},
		{name: "13m59s later: same token", advance: 13*time.Minute + 59*time.Second, wantDate: "20260314T150926Z"},
		{name: "14m later: new token", advance: time.Second, wantNew: true, wantDate: "20260314T152326Z"},
		{name: "1m after that: same token", advance: time.Minute, wantDate: "20260314T152326Z"},
		{name: "14m after the second token: new token", advance: 13 * time.Minute, wantNew: true, wantDate: "20260314T153726Z"},
	}
	var last string
	for _, s := range steps {
		c.Advance(s.advance)
		before := presigner.calls.Load()
		got, err := p.Token(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if isNew := got != last; isNew != s.wantNew {
			t.Errorf("%s: new token = %v, want %v", s.name, isNew, s.wantNew)
		}
		if presigned := presigner.calls.Load() - before; presigned != map[bool]int64{true: 1, false: 0}[s.wantNew] {
			t.Errorf("%s: presigned %d times", s.name, presigned)
		}
		if date := decodeToken(t, got).Query().Get("X-Amz-Date"); date != s.wantDate {
			t.Errorf("%s: X-Amz-Date = %s, want %s", s.name, date, s.wantDate)
		}
		last = got
	}
}

// TestTokenConcurrent: concurrent callers share one presign per refresh (run
// with -race).
func TestTokenConcurrent(t *testing.T) {
	c := newClock(unitTime)
	presigner := newCountingPresigner(unitAWSConfig(""))
	p, err := New(context.Background(), unitCluster, WithAWSConfig(unitAWSConfig("")), WithSTSPresignClient(presigner), WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		tokens := make([]string, 64)
		var wg sync.WaitGroup
		for i := range tokens {
			wg.Go(func() {
				tok, err := p.Token(context.Background())
				if err != nil {
					t.Error(err)
				}
				tokens[i] = tok
			})
		}
		wg.Wait()
		for i, tok := range tokens {
			if tok != tokens[0] {
				t.Fatalf("round %d: caller %d got another token than caller 0", round, i)
			}
		}
		if got, want := presigner.calls.Load(), int64(round+1); got != want {
			t.Errorf("round %d: presigned %d times in all, want %d", round, got, want)
		}
		c.Advance(refreshAfter)
	}
}

// TestRefreshAfterRefusal: a refused token is replaced once, however many
// requests saw it refused.
func TestRefreshAfterRefusal(t *testing.T) {
	c := newClock(unitTime)
	presigner := newCountingPresigner(unitAWSConfig(""))
	p, err := New(context.Background(), unitCluster, WithAWSConfig(unitAWSConfig("")), WithSTSPresignClient(presigner), WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := p.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Second)
	second, err := p.refresh(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Error("refresh of the refused token returned it again")
	}
	again, err := p.refresh(ctx, first) // a second request refused with the first token
	if err != nil {
		t.Fatal(err)
	}
	if again != second {
		t.Error("a second refusal of the same token presigned again instead of using the refreshed one")
	}
	if got := presigner.calls.Load(); got != 2 {
		t.Errorf("presigned %d times, want 2", got)
	}
}
