package eksauth

import (
	"context"
	"testing"
	"time"
)

// BenchmarkToken measures presigning a token (static credentials, no
// network) and handing out the cached one, which is what every request
// through the rest.Config pays.
func BenchmarkToken(b *testing.B) {
	ctx := context.Background()
	p, err := New(ctx, unitCluster, WithAWSConfig(unitAWSConfig("")), WithClock(func() time.Time { return unitTime }))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("presign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.newToken(ctx, unitTime); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Token(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
