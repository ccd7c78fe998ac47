package render_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/openapi"

	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

func BenchmarkBuildFixture(b *testing.B) {
	opts := render.Options{Path: "./app/overlays/prod", TargetNamespace: "prod"}
	b.ReportAllocs()
	for b.Loop() {
		objects, err := render.Build(fixtureRoot, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(objects) != len(fixtureProd) {
			b.Fatalf("got %d objects, want %d", len(objects), len(fixtureProd))
		}
	}
}

// BenchmarkBuildGenerated builds rendertest's overlay of 1,000 and 5,000
// objects, plainly and with variable substitution (which serialises every
// object as YAML and parses it back). Time per object should stay about the
// same from 1,000 to 5,000: kustomize's resource map is quadratic, and what
// render can keep out of it shows here.
func BenchmarkBuildGenerated(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		dir := b.TempDir()
		if err := rendertest.GenerateOverlay(dir, n); err != nil {
			b.Fatal(err)
		}
		for _, bc := range []struct {
			name string
			opts render.Options
		}{
			{"plain", render.Options{Path: rendertest.OverlayPath, TargetNamespace: "bench"}},
			{"substitute", render.Options{Path: rendertest.OverlayPath, TargetNamespace: "bench", Substitute: map[string]string{"x": "y"}}},
		} {
			b.Run(fmt.Sprintf("%s/%d", bc.name, n), func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				for b.Loop() {
					objects, err := render.Build(dir, bc.opts)
					if err != nil {
						b.Fatal(err)
					}
					if len(objects) != n {
						b.Fatalf("got %d objects, want %d", len(objects), n)
					}
				}
			})
		}
	}
}

// reportCPU reports the process's CPU time per operation (user and system,
// the garbage collector's included) when the returned function is called. On
// a machine shared with other work, wall time per operation measures the
// neighbours as much as the build; CPU time much less so (a saturated
// machine still inflates it: compare runs made side by side).
func reportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkOpenAPIReset measures what resetting kustomize's OpenAPI schema
// before every build, as Flux does, would cost: render resets it only after
// a build whose kustomizations declare a schema.
func BenchmarkOpenAPIReset(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		openapi.ResetOpenAPI()
		_ = openapi.Schema()
	}
}
