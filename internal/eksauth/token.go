package eksauth

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	tokenPrefix = "k8s-aws-v1."
	// clusterIDHeader is signed into the token so that it is good for this
	// cluster only: the authenticator signs its own cluster name when it checks.
	clusterIDHeader = "x-k8s-aws-id"
	// presignExpires is X-Amz-Expires. STS ignores it for GetCallerIdentity and
	// accepts the URL for 15 minutes after X-Amz-Date; aws-iam-authenticator
	// clients send 60 because its 0.3.0 and older servers wanted 0-60.
	presignExpires = "60"
	// tokenLifetime is how long the API server accepts a token.
	tokenLifetime = 15 * time.Minute
	// refreshAfter leaves a minute of the token's life unused, as
	// aws-iam-authenticator's token expiry does, so that a request in flight
	// or a clock a little fast never carries an expired token.
	refreshAfter = tokenLifetime - time.Minute
)

// cachedToken is a bearer token and the time it was signed at.
type cachedToken struct {
	value    string
	signedAt time.Time
}

// fresh reports whether the token can still be sent at now.
func (t cachedToken) fresh(now time.Time) bool {
	return t.value != "" && now.Before(t.signedAt.Add(refreshAfter))
}

// Token returns a bearer token for the cluster's API server:
// "k8s-aws-v1." and the unpadded base64url of an STS GetCallerIdentity URL
// presigned with the x-k8s-aws-id header. It reuses the last token until 14
// of its 15 minutes have passed.
func (p *Provider) Token(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.token.fresh(now) {
		return p.token.value, nil
	}
	t, err := p.newToken(ctx, now)
	if err != nil {
		return "", err
	}
	p.token = t
	slog.DebugContext(ctx, "presigned a new EKS token", "cluster", p.cluster, "signedAt", now.UTC().Format(time.RFC3339))
	return t.value, nil
}

// refresh replaces the token stale after the API server refused it, unless
// another request has replaced it already, and returns the current one.
func (p *Provider) refresh(ctx context.Context, stale string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.token.value != stale && p.token.fresh(now) {
		return p.token.value, nil
	}
	t, err := p.newToken(ctx, now)
	if err != nil {
		return "", err
	}
	p.token = t
	return t.value, nil
}

// newToken presigns a token at now.
func (p *Provider) newToken(ctx context.Context, now time.Time) (cachedToken, error) {
	if p.creds != nil {
		// The credential cache makes this cheap after the first call; it is
		// here to name the failure, which the presigner would only wrap.
		if _, err := p.creds.Retrieve(ctx); err != nil {
			return cachedToken{}, fmt.Errorf("%w for EKS cluster %q (the default chain: environment, shared config, web identity, container or instance role): %w", ErrNoCredentials, p.cluster, err)
		}
	}
	out, err := p.sts.PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}, func(o *sts.PresignOptions) {
		o.Presigner = clusterPresigner{next: o.Presigner, cluster: p.cluster, at: now}
	})
	if err != nil {
		return cachedToken{}, fmt.Errorf("presigning STS GetCallerIdentity for EKS cluster %q: %w", p.cluster, err)
	}
	// Without a credentials provider the SDK returns the URL unsigned rather
	// than failing; such a token can only be refused.
	if !strings.Contains(out.URL, "X-Amz-Signature=") {
		return cachedToken{}, fmt.Errorf("%w for EKS cluster %q: the STS client presigned without credentials", ErrNoCredentials, p.cluster)
	}
	return cachedToken{value: tokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(out.URL)), signedAt: now}, nil
}

// clusterPresigner adds the headers EKS needs to the request before the SDK
// presigns it, and signs at the Provider's clock rather than the SDK's.
// x-k8s-aws-id becomes a signed header; X-Amz-Expires is hoisted by the
// signer into the query string.
type clusterPresigner struct {
	next    sts.HTTPPresignerV4
	cluster string
	at      time.Time
}

// PresignHTTP implements sts.HTTPPresignerV4.
func (c clusterPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	r.Header.Set(clusterIDHeader, c.cluster)
	r.Header.Set("X-Amz-Expires", presignExpires)
	return c.next.PresignHTTP(ctx, creds, r, payloadHash, service, region, c.at, optFns...)
}
