package awstest_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	ekstypes "github.com/aws/aws-sdk-go-v2/service/eks/types"
	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/eksauth"
)

const (
	region = "eu-central-1"
	keyID  = "AKIAAWSTEST000000001"
	secret = "awstest/secret/EXAMPLEKEY"
)

func staticConfig(keyID string) aws.Config {
	return aws.Config{Region: region, Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")}
}

func TestEKSServerDescribeCluster(t *testing.T) {
	ca := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	stand := awstest.NewEKSServer(awstest.EKSCluster{Name: "prod", Endpoint: "https://127.0.0.1:6443", CAData: ca})
	defer stand.Close()
	stand.DenyAccessKey("AKIADENIED")

	tests := []struct {
		name    string
		cluster string
		keyID   string
		wantErr any
	}{
		{name: "known cluster", cluster: "prod", keyID: keyID},
		{name: "unknown cluster", cluster: "staging", keyID: keyID, wantErr: new(*ekstypes.ResourceNotFoundException)},
		{name: "denied principal", cluster: "prod", keyID: "AKIADENIED", wantErr: new(*ekstypes.AccessDeniedException)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := eks.NewFromConfig(staticConfig(tt.keyID), func(o *eks.Options) { o.BaseEndpoint = aws.String(stand.URL()) })
			out, err := client.DescribeCluster(context.Background(), &eks.DescribeClusterInput{Name: aws.String(tt.cluster)})
			if tt.wantErr != nil {
				if !errors.As(err, tt.wantErr) {
					t.Fatalf("error = %v, want %T", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := out.Cluster
			gotCA, err := base64.StdEncoding.DecodeString(aws.ToString(c.CertificateAuthority.Data))
			if err != nil || !bytes.Equal(gotCA, ca) {
				t.Errorf("CA = %q (%v), want %q", gotCA, err, ca)
			}
			if aws.ToString(c.Endpoint) != "https://127.0.0.1:6443" || c.Status != ekstypes.ClusterStatusActive ||
				aws.ToString(c.Arn) != "arn:aws:eks:"+region+":"+awstest.EKSAccountID+":cluster/prod" {
				t.Errorf("cluster = endpoint %q, status %s, arn %q", aws.ToString(c.Endpoint), c.Status, aws.ToString(c.Arn))
			}
		})
	}
	if got := stand.Requests(); got != len(tests) {
		t.Errorf("stand-in counted %d requests, want %d", got, len(tests))
	}
}

// webhookClient reads the webhook's kubeconfig, as kube-apiserver does, and
// returns its server URL and a client that trusts its CA.
func webhookClient(t *testing.T, w *awstest.EKSAuthWebhook) (string, *http.Client) {
	t.Helper()
	flags, err := w.APIServerFlags(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if flags["authentication-token-webhook-version"] != "v1" || flags["authentication-token-webhook-cache-ttl"] != "0s" {
		t.Errorf("flags = %v", flags)
	}
	b, err := os.ReadFile(flags["authentication-token-webhook-config-file"])
	if err != nil {
		t.Fatal(err)
	}
	var kubeconfig struct {
		Clusters []struct {
			Cluster struct {
				Server string `json:"server"`
				CAData string `json:"certificate-authority-data"`
			} `json:"cluster"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal(b, &kubeconfig); err != nil || len(kubeconfig.Clusters) != 1 {
		t.Fatalf("kubeconfig %s: %v", b, err)
	}
	c := kubeconfig.Clusters[0].Cluster
	pemCA, err := base64.StdEncoding.DecodeString(c.CAData)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCA) {
		t.Fatal("kubeconfig CA is not PEM")
	}
	return c.Server, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func review(t *testing.T, server string, client *http.Client, token string) authenticationv1.TokenReviewStatus {
	t.Helper()
	body, _ := json.Marshal(authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}})
	resp, err := client.Post(server, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out authenticationv1.TokenReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "authentication.k8s.io/v1" || out.Kind != "TokenReview" {
		t.Errorf("response is %s %s, want an authentication.k8s.io/v1 TokenReview", out.APIVersion, out.Kind)
	}
	return out.Status
}

func TestEKSAuthWebhook(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	id := awstest.EKSIdentity{AccessKeyID: keyID, SecretAccessKey: secret, Username: "arn:aws:iam::111122223333:role/deployer", Groups: []string{"deployers"}}
	w := awstest.NewEKSAuthWebhook("prod", region, id)
	defer w.Close()
	w.SetClock(func() time.Time { return now })
	server, client := webhookClient(t, w)

	tokenFor := func(cluster string, at time.Time) string {
		p, err := eksauth.New(context.Background(), cluster, eksauth.WithAWSConfig(staticConfig(keyID)), eksauth.WithClock(func() time.Time { return at }))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := p.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name        string
		token       string
		rejectNext  int
		wantRefusal string
	}{
		{name: "valid", token: tokenFor("prod", now.Add(-14*time.Minute))},
		{name: "signed 15m1s ago", token: tokenFor("prod", now.Add(-15*time.Minute-time.Second)), wantRefusal: "token expired"},
		{name: "signed 16m ahead", token: tokenFor("prod", now.Add(16*time.Minute)), wantRefusal: "not yet valid"},
		{name: "another cluster", token: tokenFor("staging", now), wantRefusal: "signature does not match"},
		{name: "STS outage", token: tokenFor("prod", now), rejectNext: 1, wantRefusal: "STS is unavailable"},
		{name: "padded base64", token: "k8s-aws-v1." + base64.URLEncoding.EncodeToString([]byte("https://sts."+region+".amazonaws.com/?a")), wantRefusal: "unpadded base64url"},
		{name: "other STS host", token: "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte("https://sts.amazonaws.com/?Action=GetCallerIdentity")), wantRefusal: "is not https://sts." + region},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.RejectNext(tt.rejectNext)
			before := len(w.Reviews())
			st := review(t, server, client, tt.token)
			if tt.wantRefusal == "" {
				if !st.Authenticated || st.User.Username != id.Username || len(st.User.Groups) != 1 || st.User.Groups[0] != "deployers" {
					t.Fatalf("status = %+v, want %s in deployers", st, id.Username)
				}
			} else if st.Authenticated || !strings.Contains(st.Error, tt.wantRefusal) {
				t.Fatalf("status = %+v, want a refusal saying %q", st, tt.wantRefusal)
			}
			if got := w.Reviews()[before:]; len(got) != 1 || got[0].Token != tt.token || (got[0].Refusal == "") != (tt.wantRefusal == "") {
				t.Errorf("recorded reviews %+v", got)
			}
		})
	}

	resp, err := client.Get(server)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("GET answered %d, want 400", resp.StatusCode)
	}
}
